#include "vigil/curl_common.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <mutex>
#include <sstream>

namespace vigil::curl {
namespace {

struct BioCleanup {
  void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

Status init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result == CURLE_OK ? Status::ok() : Status::internal("libcurl failed to initialise");
}

bool isTlsFailure(CURLcode c) {
  switch (c) {
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
      return true;
    default:
      return false;
  }
}

CURLcode addCaBundle(CURL*, void* sslCtx, void* bundle) {
  return static_cast<const CaBundle*>(bundle)->addTo(static_cast<SSL_CTX*>(sslCtx)) ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

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
    return Status::invalidArgument("caFile '" + path + "' cannot be read or holds no PEM certificate");
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

}  // namespace vigil::curl
