// REST connectors declared in YAML: how an admin adds a force system without writing C++.
//
//   connector: rms                          # the name workflows use: uses: rms.person_records
//   description: Records management system (synthetic)
//   base_url: http://127.0.0.1:8471/api
//   auth: { bearer_secret: RMS_TOKEN }      # or { basic_user: U, basic_password_secret: NAME }
//   timeout: 10s
//   max_concurrency: 4
//   max_per_second: 5
//   actions:
//     person_records:
//       description: Incidents and markers recorded against a person
//       access: consultation                # consultation, disclosure or alteration
//       method: GET                         # GET, POST, PUT, PATCH, DELETE
//       path: /people/{person_id}/records   # {param} is URL-encoded into the path
//       params:
//         person_id: { type: string, required: true }
//         since: { type: string }
//       query: { since: "{since}" }         # a query parameter whose param is absent is left out
//       body: { ref: "{person_id}" }        # JSON; a string that is exactly "{param}" takes the param's value
//       outputs:                            # name: a path into the response ({status, headers, json})
//         incidents: json.incidents
//
// Each call becomes an `http.request` through the registered `http` connector, so the
// outbound allow-list, TLS checks, secrets and Retry-After apply exactly as for http.
// The JSON Schema for editors is connectors/rest/connector.schema.json.
#pragma once

#include <string>
#include <vector>

#include "vigil/connector.h"

namespace vigil {

// Loads every *.yaml in `dirs` and registers one connector per file; needs `http`
// registered first. Errors name the file, line and key; nothing is registered from a
// file with errors. `loaded` receives the names registered.
Status registerRestConnectors(ConnectorRegistry& registry, const std::vector<std::string>& dirs,
                              std::vector<std::string>* loaded = nullptr);

// Checks one definition file without registering it (vigil validate); gives the
// connector's name and its action names.
Status checkRestDefinition(const std::string& file, std::string* name, std::vector<std::string>* actions);

}  // namespace vigil
