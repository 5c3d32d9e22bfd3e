// Finds the project's shared/ folder (real ISC captures and logs) for the
// capture-driven policy tests: $TANDEM_SHARED as `make check` sets it, else
// ../shared beside the source tree, else ../shared from the working directory.
#ifndef TANDEM_TESTS_UNIT_FAILOVER_SHARED_DATA_H
#define TANDEM_TESTS_UNIT_FAILOVER_SHARED_DATA_H

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tandem::testdata {

inline bool isFile(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

/// @brief The path of shared/captures/<name>, or "" when it cannot be found.
inline std::string capturePath(const std::string& name) {
    std::string candidates[3];
    if (const char* s = std::getenv("TANDEM_SHARED")) candidates[0] = s;
    if (const char* top = std::getenv("top_srcdir")) candidates[1] = std::string(top) + "/../shared";
    candidates[2] = "../shared";
    for (const auto& dir : candidates) {
        if (dir.empty()) continue;
        std::string p = dir + "/captures/" + name;
        if (isFile(p)) return p;
    }
    return "";
}

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream os;
    os << in.rdbuf();
    return os.str();
}

}  // namespace tandem::testdata

#endif
