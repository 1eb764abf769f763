// A throwaway PostgreSQL server for the tests (the sql connector, the PostgreSQL store): initdb in a temp dir with a
// SCRAM password for user "vigil", started on a free loopback port, stopped (immediate) and
// removed by the destructor even when a test failed. As root it runs as "nobody" through
// runuser, since postgres refuses to run as root.
#pragma once

#include <memory>
#include <string>

namespace vigil::test {

class PostgresServer {
 public:
  static constexpr const char* kPassword = "pg-SECRETVALUE-9";

  // The server for this test binary, started on first use; nullptr (with `why` set) when it
  // cannot be started here.
  static PostgresServer* shared(std::string& why);

  ~PostgresServer();
  int port() const { return port_; }
  // libpq conninfo without the password, for user vigil and database "postgres".
  std::string conninfo() const;
  // Runs setup SQL as vigil; false with `why` on failure.
  bool exec(const std::string& sql, std::string& why) const;

 private:
  PostgresServer() = default;
  bool start(std::string& why);
  std::string asOwner() const;

  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

// A loopback TCP port that nothing listens on at the time of the call.
int freePort();

}  // namespace vigil::test
