#include "postgres_server.h"

#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vigil::test {
namespace {
const char* kBin = "/usr/lib/postgresql/15/bin/";
}

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

PostgresServer* PostgresServer::shared(std::string& why) {
  static std::string failure;
  static std::unique_ptr<PostgresServer> server = [] {
    std::unique_ptr<PostgresServer> s(new PostgresServer());
    if (!s->start(failure)) s.reset();
    return s;
  }();
  why = failure;
  return server.get();
}

std::string PostgresServer::asOwner() const { return geteuid() == 0 ? "runuser -u nobody -- " : ""; }

bool PostgresServer::start(std::string& why) {
  if (!std::filesystem::exists(std::string(kBin) + "initdb")) {
    why = "PostgreSQL 15 binaries not found under " + std::string(kBin);
    return false;
  }
  char tmpl[] = "/tmp/vigil-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  dir_ = tmpl;
  std::ofstream(dir_ + "/pw") << kPassword << "\n";
  if (geteuid() == 0) {
    passwd* nobody = getpwnam("nobody");
    if (nobody == nullptr || chown(dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0 ||
        chown((dir_ + "/pw").c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      why = "running as root and cannot hand the data dir to 'nobody'";
      return false;
    }
  }
  std::string initdb = asOwner() + kBin + "initdb -D " + dir_ + "/data -U vigil --auth=scram-sha-256 --pwfile=" +
                       dir_ + "/pw -N >" + dir_ + "/initdb.log 2>&1";
  if (std::system(initdb.c_str()) != 0) {
    why = "initdb failed (as root, via runuser -u nobody); see " + dir_ + "/initdb.log";
    return false;
  }
  for (int attempt = 0; attempt < 3 && !running_; ++attempt) {
    port_ = freePort();
    std::string start = asOwner() + kBin + "pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -o \"-p " +
                        std::to_string(port_) + " -k " + dir_ + " -c listen_addresses=127.0.0.1 -c fsync=off\" -w start >" +
                        dir_ + "/pg_ctl.log 2>&1";
    running_ = std::system(start.c_str()) == 0;
  }
  if (!running_) why = "pg_ctl start failed; see " + dir_ + "/server.log";
  return running_;
}

PostgresServer::~PostgresServer() {
  if (running_) {
    std::string stop = asOwner() + kBin + "pg_ctl -D " + dir_ + "/data stop -m immediate >/dev/null 2>&1";
    (void)std::system(stop.c_str());
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=vigil";
}

bool PostgresServer::exec(const std::string& sql, std::string& why) const {
  std::string info = conninfo() + " password=" + kPassword;
  PGconn* c = PQconnectdb(info.c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
  }
  if (!ok) why = PQerrorMessage(c);
  PQfinish(c);
  return ok;
}

}  // namespace vigil::test
