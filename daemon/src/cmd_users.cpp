// vigil users / vigil tokens: offline administration of people and tokens on a data directory.
#include <iostream>

#include <boost/program_options.hpp>

#include "auth/user_store.h"
#include "cli.h"

namespace po = boost::program_options;

namespace vigil::daemon {
namespace {

int runUsers(CommandContext& ctx) {
  std::string action, name, data = "./vigil-data";
  std::vector<std::string> roles;
  po::options_description opts;
  opts.add_options()("action", po::value(&action))("name", po::value(&name))("role", po::value(&roles))(
      "data", po::value(&data));
  po::positional_options_description pos;
  pos.add("action", 1).add("name", 1);
  if (int rc = kExitOk; !parseOptions("users", ctx, opts, pos, &rc)) {
    return rc;
  }
  if (action != "add" && action != "list") return usageError("users", "the action must be 'add' or 'list'");
  if (action == "add" && name.empty()) return usageError("users", "give the new user's name");
  // Only `add` may start a data directory; listing a mistyped path must not create one.
  if (action == "list") {
    if (auto missing = missingDataDir(data, "auth.db")) return usageError("users", *missing);
  }
  auto store = UserStore::open(data);
  if (!store) {
    std::cerr << "vigil users: " << store.status().message() << "\n";
    return kExitFailure;
  }
  if (action == "add") {
    auto token = (*store)->addUser(name, std::set<std::string>(roles.begin(), roles.end()));
    if (!token) {
      std::cerr << "vigil users add: " << token.status().message() << "\n";
      return token.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailure;
    }
    std::cout << *token << "\n";  // alone on stdout, for scripts
    return kExitOk;
  }
  auto list = (*store)->list();
  if (!list) {
    std::cerr << "vigil users list: " << list.status().message() << "\n";
    return kExitFailure;
  }
  for (const auto& u : *list) {
    std::cout << u.name << "\t";
    bool first = true;
    for (const auto& r : u.roles) {
      std::cout << (first ? "" : ",") << r;
      first = false;
    }
    std::cout << "\ttokens:";
    for (const auto& t : u.activeTokenIds) std::cout << " " << t;
    std::cout << "\n";
  }
  return kExitOk;
}

int runTokens(CommandContext& ctx) {
  std::string action, arg, data = "./vigil-data";
  po::options_description opts;
  opts.add_options()("action", po::value(&action))("arg", po::value(&arg))("data", po::value(&data));
  po::positional_options_description pos;
  pos.add("action", 1).add("arg", 1);
  if (int rc = kExitOk; !parseOptions("tokens", ctx, opts, pos, &rc)) {
    return rc;
  }
  if (action != "issue" && action != "revoke") {
    return usageError("tokens", "the action must be 'issue USER' or 'revoke TOKEN_ID'");
  }
  // Tokens belong to existing users, so there must already be a user store.
  if (auto missing = missingDataDir(data, "auth.db")) return usageError("tokens", *missing);
  auto store = UserStore::open(data);
  if (!store) {
    std::cerr << "vigil tokens: " << store.status().message() << "\n";
    return kExitFailure;
  }
  if (action == "issue") {
    auto token = (*store)->issueToken(arg);
    if (!token) {
      std::cerr << "vigil tokens issue: " << token.status().message() << "\n";
      return kExitFailure;
    }
    std::cout << *token << "\n";
    return kExitOk;
  }
  if (action == "revoke") {
    Status s = (*store)->revokeToken(arg);
    if (!s) {
      std::cerr << "vigil tokens revoke: " << s.message() << "\n";
      return kExitFailure;
    }
    std::cout << "revoked " << arg << "\n";
    return kExitOk;
  }
  return usageError("tokens", "the action must be 'issue USER' or 'revoke TOKEN_ID'");
}

}  // namespace

Command usersCommand() {
  return Command{"users", "Add or list users on a data directory (offline)",
                 "vigil users add NAME --role ROLE [--role ROLE]... [--data DIR] | vigil users list [--data DIR]",
                 "add   creates the user with the given roles and prints its first token alone on\n"
                 "      stdout (shown only now; stored only as a hash); creates DIR if it is new\n"
                 "list  prints each user, their roles and the ids of their active tokens; a DIR\n"
                 "      without a user store is refused, and nothing is created\n\n"
                 "Roles: admin (users and tokens), author (publish workflows), operator (start, read\n"
                 "and cancel runs), approver (read runs, decide), auditor (read runs, audit).\n"
                 "Exit status: 0 on success, 1 on failure, 2 for bad arguments or an unknown role.\n",
                 runUsers};
}

Command tokensCommand() {
  return Command{"tokens", "Issue or revoke API tokens on a data directory (offline)",
                 "vigil tokens issue USER [--data DIR] | vigil tokens revoke TOKEN_ID [--data DIR]",
                 "issue   prints a new token for USER alone on stdout\n"
                 "revoke  stops a token working at once; TOKEN_ID is from 'vigil users list'\n\n"
                 "Exit status: 0 on success, 1 on failure, 2 for bad arguments.\n",
                 runTokens};
}

}  // namespace vigil::daemon
