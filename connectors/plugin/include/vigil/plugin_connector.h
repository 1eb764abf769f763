// Out-of-process plugins: any executable speaking the JSON-lines protocol of
// plugins/PROTOCOL.md over its stdin/stdout becomes a connector.
//
// vigil starts the plugin (no shell; argv as configured; working directory `workingDir`;
// a minimal environment: PATH, LANG) in a session and process group of its own, reads its
// hello, and keeps it warm for later calls. Whatever the plugin starts ends with it, even
// in a session of its own or daemonized (connectors/plugin/src/containment.h; the process
// becomes a child subreaper when it starts its first plugin). Each process serves one call at a time; a plugin declaring
// "max_concurrency": N in its hello gets up to N processes, started as calls need them.
// The plugin's stderr is drained continuously and only counted, never logged (it may hold
// personal data).
//
// Failures (CallOutcome codes; messages name the plugin and what happened, never echo its
// output):
//   unknown_action      the action is not one the plugin declared                not retryable
//   timeout             callTimeout, or the call's deadline if sooner, passed;
//                       the plugin and what it started are killed (SIGKILL)     retryable
//   plugin_crashed      the process died or closed its stdout mid-call (exit
//                       status or signal named)                                  retryable
//   plugin_protocol     a line that is not JSON, a wrong id or type, a line
//                       longer than maxLineBytes, or a malformed/other-version
//                       hello on restart; the process is killed                  not retryable
//   plugin_unavailable  the executable could not be started again               retryable
//   <plugin's code>     the plugin answered ok:false; its code, message and retryable
//                       are passed on
// After any fault the process is gone; the next call starts a fresh one. No zombie is left:
// every child is reaped, and destroying the connector stops all its processes (stdin
// closed, then SIGKILL to each and what it started after a short grace).
//
// Thread safety: the registered connector may be called from many threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil {

struct PluginOptions {
  std::string name;               // the connector name workflows use ("pnd_lookup")
  std::vector<std::string> argv;  // executable and arguments; a bare name is looked up in
                                  // /usr/local/bin:/usr/bin:/bin, a relative path from workingDir
  std::string workingDir;
  std::chrono::milliseconds callTimeout{30000};  // per call, further cut by the call's deadline
  std::chrono::milliseconds startTimeout{5000};  // for the hello
  std::size_t maxLineBytes = 4 * 1024 * 1024;    // a longer line is garbage
  // Each process in a cgroup of its own when this process's cgroup v2 directory is
  // writable (exact containment); false keeps to the session and process-tree rules alone.
  bool ownCgroup = true;
};

// Starts the plugin once to read its hello, so its actions are known when workflows load
// (`vigil validate` checks every `uses:` against them), and registers it under
// `options.name` with the concurrency the plugin declared. The first process stays warm.
// Fails, naming the plugin, when the options are incomplete, the executable cannot start,
// its hello is missing, late, malformed or of another protocol version, or the name is
// already registered.
Status registerPlugin(ConnectorRegistry& registry, const PluginOptions& options);

}  // namespace vigil
