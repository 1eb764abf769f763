// The published workflows: every version of each, the version that starts new runs, and
// the workflow behind each webhook path. This is the one place they are held; the engine
// keeps only the compiled machines runs execute, fed from here.
//
// publish() is the one way in. Folders (at start and on SIGHUP), versions published earlier
// and kept in the store, and `POST /api/v1/workflows` all go through it, so all run the
// same checks (publication_checks.h, and the checks that need the other workflows).
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "catalog/publication_checks.h"
#include "vigil/engine.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

class WorkflowCatalog {
 public:
  // Where a definition comes from. A folder or the store may offer an older version than
  // the one active (a file left behind after `vigil publish`): it is kept and listed, and
  // the newer one stays active. Through the API an older version is refused.
  enum class Origin { kFolder, kStore, kApi };

  struct Candidate {
    std::shared_ptr<const Workflow> workflow;
    std::string source;
  };

  struct Outcome {
    enum class Kind {
      kPublished,      // now active (or listed, when older than the active version)
      kUnchanged,      // this exact definition was already published
      kInvalid,        // diagnostics hold the errors
      kVersionExists,  // that version holds another definition
      kVersionTooOld,  // (API) a newer version is already published
      kUnavailable,    // the store did not take it
    };
    Kind kind = Kind::kInvalid;
    std::vector<Diagnostic> diagnostics;  // errors when kInvalid, else warnings
    std::string message;                  // why, for the other refusals
    bool ok() const { return kind == Kind::kPublished || kind == Kind::kUnchanged; }
  };

  // `people` is asked at each publication (accounts change while the daemon runs); it may
  // return nullopt when the user store cannot be read, and users are then not checked.
  WorkflowCatalog(Engine& engine, const ConnectorRegistry* connectors, std::shared_ptr<const Area> area,
                  std::function<std::optional<Assignees>()> people);

  // Every problem `wf` would have if published now, against the other active workflows.
  std::vector<Diagnostic> check(const Workflow& wf) const;
  // Checks and publishes a batch (a folder's files are checked together, so calls between
  // them resolve); one outcome per candidate, in order.
  std::vector<Outcome> publish(const std::vector<Candidate>& batch, Origin origin);

  std::shared_ptr<const Workflow> latest(const std::string& name) const;
  std::shared_ptr<const Workflow> find(const std::string& name, int version) const;
  // Every version of `name`, oldest first (empty when unknown).
  std::vector<std::shared_ptr<const Workflow>> versions(const std::string& name) const;
  // The active version of each workflow, by name.
  std::vector<std::shared_ptr<const Workflow>> active() const;
  // The workflow listening on a webhook path and how its deliveries are answered.
  struct WebhookRoute {
    std::string workflow;
    std::optional<Millis> wait;  // the trigger's `wait:`
  };
  std::optional<WebhookRoute> webhook(const std::string& path) const;

  // Told the active set after every change (and at once when set), outside the lock: the
  // triggers and the retention sweep follow it.
  void onChange(std::function<void(const std::vector<std::shared_ptr<const Workflow>>&)> listener);

 private:
  std::vector<Diagnostic> checkLocked(const Workflow& wf, const std::vector<std::shared_ptr<const Workflow>>& batch,
                                      const std::optional<Assignees>& people) const;
  Outcome admitLocked(const Candidate& c, Origin origin, std::vector<Diagnostic> problems);
  std::vector<std::shared_ptr<const Workflow>> activeLocked() const;

  Engine& engine_;
  const ConnectorRegistry* connectors_;
  std::shared_ptr<const Area> area_;
  std::function<std::optional<Assignees>()> people_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::map<int, std::shared_ptr<const Workflow>>> versions_;  // name -> version
  std::map<std::string, WebhookRoute> hooks_;  // by webhook path
  std::mutex listenerMu_;  // held while telling the listener, so it sees changes in order
  std::function<void(const std::vector<std::shared_ptr<const Workflow>>&)> listener_;
};

}  // namespace vigil::daemon
