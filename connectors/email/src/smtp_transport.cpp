#include "smtp_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>

namespace vigil::email {
namespace {

struct CurlCleanup {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistCleanup {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

size_t readUpload(char* buf, size_t size, size_t nitems, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t n = std::min(size * nitems, u->data->size() - u->pos);
  std::memcpy(buf, u->data->data() + u->pos, n);
  u->pos += n;
  return n;
}

size_t discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

// Server reply text is never copied into the message: servers echo addresses back
// ("550 <jane@example.org>: mailbox unavailable"). The code says enough.
CallOutcome outcomeFor(CURLcode c, long reply, std::chrono::milliseconds budget) {
  if (c == CURLE_USE_SSL_FAILED) {
    return CallOutcome::failure("tls_error", "email: the mail server did not accept STARTTLS, which is required", false);
  }
  if (curl::isTlsFailure(c)) {
    return CallOutcome::failure("tls_error", std::string("email: TLS with the mail server failed: ") + curl_easy_strerror(c),
                                false);
  }
  if (c == CURLE_OPERATION_TIMEDOUT) {
    return CallOutcome::failure(
        "timeout", "email: the mail server did not finish within " + std::to_string(budget.count()) + " ms", true);
  }
  if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST) {
    return CallOutcome::failure("unreachable", std::string("email: cannot reach the mail server: ") + curl_easy_strerror(c),
                                true);
  }
  std::string what = c == CURLE_LOGIN_DENIED ? "refused the login" : "answered";
  if (reply >= 400 && reply < 500) {
    return CallOutcome::failure("smtp_4xx", "email: the mail server " + what + " " + std::to_string(reply) +
                                                " (temporary; try again later)", true);
  }
  if (reply >= 500 && reply < 600) {
    return CallOutcome::failure("smtp_5xx", "email: the mail server " + what + " " + std::to_string(reply) +
                                                " (permanent failure)", false);
  }
  if (c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE) {
    return CallOutcome::failure("unreachable", "email: the connection to the mail server broke", true);
  }
  return CallOutcome::failure("smtp_error", std::string("email: sending failed: ") + curl_easy_strerror(c), false);
}

}  // namespace

CallOutcome SmtpTransport::send(const std::string& from, const OutgoingMessage& m, const std::string& password,
                                std::chrono::milliseconds budget) const {
  std::unique_ptr<CURL, CurlCleanup> h(curl_easy_init());
  if (h == nullptr) return CallOutcome::failure("smtp_error", "email: could not start an SMTP client", true);
  std::unique_ptr<curl_slist, SlistCleanup> rcpts;
  for (const auto& r : m.recipients) {
    curl_slist* next = curl_slist_append(rcpts.get(), ("<" + r + ">").c_str());
    if (next == nullptr) return CallOutcome::failure("smtp_error", "email: out of memory", true);
    (void)rcpts.release();
    rcpts.reset(next);
  }
  Upload upload{&m.data};
  const std::string mailFrom = "<" + from + ">";
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // we run on worker threads; no SIGALRM timeouts
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count()));
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mailFrom.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, readUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(m.data.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (settings_.requireStartTls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (settings_.cas) {
    CURLcode set = curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, curl::addCaBundle);
    if (set == CURLE_OK) {
      curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, settings_.cas.get());
    } else {
      // A libcurl without the OpenSSL hook: trust the file, plus the built-in CA directory.
      curl_easy_setopt(c, CURLOPT_CAINFO, settings_.caFile.c_str());
    }
  }
  if (!settings_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
  }
  CURLcode res = curl_easy_perform(c);
  if (res == CURLE_OK) return CallOutcome::success(Json::object());
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  return outcomeFor(res, reply, budget);
}

}  // namespace vigil::email
