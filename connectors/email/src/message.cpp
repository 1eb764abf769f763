#include "message.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "mime.h"

namespace vigil::email {
namespace {

constexpr std::size_t kFoldAt = 78;
constexpr std::size_t kMaxKeyHeader = 900;

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 0x0F];
  }
  return out;
}

// 128 bits name the message: from the key's SHA-256, so a repeated call (same key) gives a
// receiver the same Message-ID to deduplicate on; random when the caller gave no key.
std::string messageIdFor(const std::string& key, const std::string& from) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  bool hashed = !key.empty() && EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr) == 1;
  if (!hashed && RAND_bytes(digest, 16) != 1) {
    // Only a broken host has no randomness; time and a counter still keep ids apart.
    static std::atomic<unsigned long long> counter{0};
    unsigned long long parts[2] = {static_cast<unsigned long long>(std::time(nullptr)), ++counter};
    std::memcpy(digest, parts, sizeof parts);
  }
  return "<vigil." + hex(digest, 16) + "@" + domainOf(from) + ">";
}

// The key names a run and step, not a person, but it is not ours to trust: bytes outside
// printable ASCII (and '%', to keep the mapping reversible) become %XX.
std::string headerSafeKey(const std::string& key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7F && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  // A header line must stay under 998 octets; an absurdly long key is carried as its hash.
  if (out.size() > kMaxKeyHeader) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
    return "sha256:" + hex(digest, len);
  }
  return out;
}

std::string addressHeader(const std::string& name, const std::vector<std::string>& addrs) {
  std::string out = name + ":";
  std::size_t lineLen = out.size();
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    std::string piece = addrs[i] + (i + 1 < addrs.size() ? "," : "");
    if (i > 0 && lineLen + 1 + piece.size() > kFoldAt) {
      out += "\r\n";
      lineLen = 0;
    }
    out += " " + piece;
    lineLen += 1 + piece.size();
  }
  return out + "\r\n";
}

}  // namespace

OutgoingMessage composeMessage(const SendRequest& r, const std::string& from, const std::string& key,
                               std::time_t now) {
  OutgoingMessage m;
  m.messageId = messageIdFor(key, from);
  for (const auto* list : {&r.to, &r.cc}) {
    for (const auto& a : *list) {
      if (std::find(m.recipients.begin(), m.recipients.end(), a) == m.recipients.end()) m.recipients.push_back(a);
    }
  }
  std::string& d = m.data;
  d += "Date: " + rfc5322Date(now) + "\r\n";
  d += "From: " + from + "\r\n";
  d += addressHeader("To", r.to);
  if (!r.cc.empty()) d += addressHeader("Cc", r.cc);
  if (!r.replyTo.empty()) d += "Reply-To: " + r.replyTo + "\r\n";
  d += subjectHeader(r.subject);
  d += "Message-ID: " + m.messageId + "\r\n";
  if (!key.empty()) d += "X-Vigil-Idempotency-Key: " + headerSafeKey(key) + "\r\n";
  d += "MIME-Version: 1.0\r\n";
  d += "Content-Type: text/plain; charset=utf-8\r\n";
  // Quoted-printable keeps every line short and 7-bit, so no relay needs 8BITMIME.
  d += "Content-Transfer-Encoding: quoted-printable\r\n";
  d += "\r\n";
  d += quotedPrintable(r.body);
  return m;
}

}  // namespace vigil::email
