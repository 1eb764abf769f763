#include "transport.h"

#include <openssl/crypto.h>
#include <sys/socket.h>

#include <cstring>
#include <mutex>
#include <string_view>

#include "text.h"

namespace vigil::http {
namespace {

struct CurlCleanup {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};

// Header lines may hold a credential (Authorization): wiped before libcurl frees its copies.
struct SlistCleanup {
  void operator()(curl_slist* l) const {
    for (curl_slist* n = l; n != nullptr; n = n->next) OPENSSL_cleanse(n->data, std::strlen(n->data));
    curl_slist_free_all(l);
  }
};

// What the callbacks of one transfer share.
struct HopState {
  std::size_t maxBytes;
  std::size_t received = 0;
  HopResponse* response;
  std::string lastHeader;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool over(HopState& st, std::size_t n) {
  st.received += n;
  if (st.received > st.maxBytes) st.response->tooLarge = true;
  return st.response->tooLarge;
}

// A declared length past the limit refuses the response before any of its body arrives.
bool announcesTooMuch(std::string_view value, std::size_t max) {
  if (value.empty()) return false;
  unsigned long long n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return false;  // malformed: libcurl itself rejects it
    if (n > max) return true;              // stop before the digits overflow
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  return n > max;
}

size_t onHeader(char* data, size_t size, size_t nitems, void* user) {
  auto& st = *static_cast<HopState*>(user);
  const size_t len = size * nitems;
  if (over(st, len)) return 0;  // returning less than len aborts the transfer
  std::string_view line = trim(std::string_view(data, len));
  auto& headers = st.response->headers;
  if (line.substr(0, 5) == "HTTP/") {  // a new response (after 100 Continue): start over
    headers.clear();
    st.lastHeader.clear();
    return len;
  }
  if (line.empty()) return len;
  if ((data[0] == ' ' || data[0] == '\t') && !st.lastHeader.empty()) {  // obsolete line folding
    headers[st.lastHeader] += " " + utf8OrReplaced(line);
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name = toLower(trim(line.substr(0, colon)));
  std::string value = utf8OrReplaced(trim(line.substr(colon + 1)));
  if (name == "content-length" && announcesTooMuch(value, st.maxBytes)) {
    st.response->tooLarge = true;
    return 0;
  }
  auto [it, fresh] = headers.emplace(name, value);
  if (!fresh) it->second += ", " + value;
  st.lastHeader = name;
  return len;
}

size_t onBody(char* data, size_t size, size_t nmemb, void* user) {
  auto& st = *static_cast<HopState*>(user);
  const size_t len = size * nmemb;
  if (over(st, len)) return 0;
  st.response->body.append(data, len);
  return len;
}

// Every connection, whatever name or redirect led to it, is checked on the address itself.
curl_socket_t openSocket(void* user, curlsocktype purpose, struct curl_sockaddr* a) {
  auto& st = *static_cast<HopState*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || isForbiddenAddress(&a->addr)) {
    st.response->addressRefused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void setMethod(CURL* c, const HopRequest& r) {
  if (r.method == "GET" && r.body == nullptr) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (r.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  if (r.body != nullptr) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body->size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body->data());
  } else if (r.method != "DELETE") {
    // PUT, PATCH and POST without a body still say so (Content-Length: 0).
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  }
}

}  // namespace

// A libcurl share of connections, DNS answers and TLS sessions, locked per kind of data.
class ConnectionPool {
 public:
  ConnectionPool() : share_(curl_share_init()) {
    if (share_ == nullptr) return;  // transfers then run unshared, as before
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
  ~ConnectionPool() {
    if (share_ != nullptr) curl_share_cleanup(share_);  // every transfer's handle is gone by now
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  CURLSH* share() const { return share_; }

 private:
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<ConnectionPool*>(user)->mu_[slot(data)].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<ConnectionPool*>(user)->mu_[slot(data)].unlock();
  }
  static std::size_t slot(curl_lock_data d) {
    const auto i = static_cast<std::size_t>(d);
    return i < kSlots ? i : 0;
  }
  static constexpr std::size_t kSlots = CURL_LOCK_DATA_LAST;
  CURLSH* share_;
  std::mutex mu_[kSlots];
};

Transport::Transport(std::size_t maxBytes, std::shared_ptr<const curl::CaBundle> extraCas)
    : maxBytes_(maxBytes), extraCas_(std::move(extraCas)), pool_(std::make_shared<ConnectionPool>()) {}

HopResponse Transport::perform(const HopRequest& r) const {
  HopResponse out;
  std::unique_ptr<CURL, CurlCleanup> h(curl_easy_init());
  if (h == nullptr) {
    out.code = CURLE_OUT_OF_MEMORY;
    return out;
  }
  std::unique_ptr<curl_slist, SlistCleanup> headers;
  for (const auto& line : r.headerLines) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) {
      out.code = CURLE_OUT_OF_MEMORY;
      return out;
    }
    (void)headers.release();
    headers.reset(next);
  }
  HopState st{maxBytes_, 0, &out, {}};
  CURL* c = h.get();
  if (pool_->share() != nullptr) {
    curl_easy_setopt(c, CURLOPT_SHARE, pool_->share());
    // Enough kept connections for every worker to keep one to each of a few systems.
    curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 64L);
  }
  curl_easy_setopt(c, CURLOPT_CURLU, r.destination->url.get());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // the client follows, re-checking each target
  curl_easy_setopt(c, CURLOPT_PROXY, "");           // no environment proxies: the policy judges the real peer
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);        // worker threads; no SIGALRM timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, openSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &st);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  setMethod(c, r);
  if (extraCas_ != nullptr) {
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, curl::addCaBundle);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, extraCas_.get());
  }
  if (r.clientCert != nullptr) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, r.clientCert->certFile.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    if (!r.clientCert->keyFile.empty()) curl_easy_setopt(c, CURLOPT_SSLKEY, r.clientCert->keyFile.c_str());
  }
  out.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  char* location = nullptr;
  if (out.code == CURLE_OK && curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK &&
      location != nullptr) {
    out.redirectUrl = location;
  }
  return out;
}

}  // namespace vigil::http
