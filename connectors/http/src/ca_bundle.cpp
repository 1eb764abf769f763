#include "ca_bundle.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace vigil::http {
namespace {

struct BioCleanup {
  void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

Result<std::shared_ptr<const CaBundle>> CaBundle::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string pem = text.str();
  std::shared_ptr<CaBundle> bundle(new CaBundle());
  std::unique_ptr<BIO, BioCleanup> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (bio != nullptr) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) break;
    bundle->certs_.push_back(cert);
  }
  // Reading ends with "no start line": expected, and it must not linger in this thread's
  // error queue for the next OpenSSL user to trip over.
  ERR_clear_error();
  if (!in || bundle->certs_.empty()) {
    return Status::invalidArgument("http connector: caFile '" + path + "' cannot be read or holds no PEM certificate");
  }
  return std::shared_ptr<const CaBundle>(std::move(bundle));
}

CaBundle::~CaBundle() {
  for (X509* c : certs_) X509_free(c);
}

bool CaBundle::addTo(SSL_CTX* ctx) const {
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  if (store == nullptr) return false;
  // X509_STORE_add_cert takes its own reference; a CA already in the store is reported as
  // an error, which is harmless.
  for (X509* c : certs_) X509_STORE_add_cert(store, c);
  ERR_clear_error();
  return !certs_.empty();
}

}  // namespace vigil::http
