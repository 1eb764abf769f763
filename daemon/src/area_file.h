// Area files: an area's calendars (working days, hours, bank holidays, school terms) and
// decision timescales, as YAML data an admin edits (examples/areas/*.yaml). Errors name
// the file, line, column and key.
#pragma once

#include <memory>
#include <string>

#include "vigil/area.h"
#include "vigil/status.h"

namespace vigil::daemon {

Result<std::shared_ptr<const Area>> loadAreaFile(const std::string& path,
                                                 const std::string& zoneinfoDir = "/usr/share/zoneinfo");
// The same from the file's text (an area copy in an audit bundle); `path` names it in errors.
Result<std::shared_ptr<const Area>> loadAreaText(const std::string& text, const std::string& path,
                                                 const std::string& zoneinfoDir = "/usr/share/zoneinfo");

// Runs record the hash of the area they ran under; the daemon keeps a copy of each area
// file it used under DATA/areas/HASH.yaml so that replay finds exactly that one.
Status keepAreaFile(const std::string& path, const Area& area, const std::string& dataDir);
// The area a run recorded (`hash` from its RunStarted event), from DATA/areas.
Result<std::shared_ptr<const Area>> keptArea(const std::string& dataDir, const std::string& hash);

}  // namespace vigil::daemon
