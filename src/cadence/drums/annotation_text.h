// The text annotation formats: one hit per line, "time label", fields separated by spaces or
// tabs (ENST-Drums writes a space, MDB-Drums, RBMA13 and TMIDT a tab; ADTOF's TextReader strips
// stray spaces around the tab, so we accept any run of either).
//   enst       "0.371519 chh"          drummer_N/annotation/*.txt
//   mdb        "0.371519\tCHH"         annotations/subclass/*_subclass.txt
//   mdb_class  "0.371519\tHH"          annotations/class/*_class.txt
//   rbma13     "0.371519\t7"           annotations/drums_f/*.txt (class index, see label_table.h)
//   tmidt      "0.371519\t7"           annotations/drums_f/*.txt
// An optional third field is a velocity, as ADTOF's reader (MIREX's "time label velocity")
// takes it: a value in (0, 1] scales 127, one in (1, 127] is used as it is (rounded).
// Blank lines are skipped; CRLF endings and a UTF-8 byte-order mark are accepted. Anything else
// (a time that is not a finite number, a missing label, more than three fields, a class index
// that is not a whole number >= 0) raises AnnotationError naming the line.
#pragma once

#include <string>
#include <string_view>

#include "cadence/drums/annotation.h"

namespace cadence::drums {

Annotation parse_annotation_text(std::string_view text, AnnotationFormat format, const std::string& name);

}  // namespace cadence::drums
