// One lexical item of a value written in a configuration or lease file, as the
// parser hands it to whoever gives it a type (option values, parameters). The
// parser does not know option types; the typer does not know the grammar.
#ifndef TANDEM_COMMON_ATOM_H
#define TANDEM_COMMON_ATOM_H

#include <string>
#include <vector>

#include "common/diag.h"

namespace tandem::common {

struct Atom {
    enum class Kind {
        Word,    ///< unquoted: 42, -7, on, 10.0.0.1, 01:02:0a, www.example.com, 2001::1, foo.bar
        String,  ///< a quoted string, escapes already decoded (may hold any byte)
        Comma,   ///< ',' separating array elements
        Punct,   ///< any other single character the parser let through, e.g. '/'
    };
    Kind kind = Kind::Word;
    std::string text;
    Location where;
};

using Atoms = std::vector<Atom>;

}  // namespace tandem::common

#endif
