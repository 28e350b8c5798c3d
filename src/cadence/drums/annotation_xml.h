// IDMT-SMT-Drums' annotation_xml/*.xml: Fraunhofer IDMT's "instrumentRecording" schema, one
// <event> per hit inside <transcription>, each with <onsetSec> and <instrument> (KD, SD, HH)
// among other children that we do not need (public loaders read them in the order pitch,
// onsetSec, offsetSec, instrument; we do not rely on the order):
//
//   <instrumentRecording>
//     <globalParameter><audioFileName>RealDrum01_00#MIX.wav</audioFileName>...</globalParameter>
//     <transcription>
//       <event><pitch>..</pitch><onsetSec>0.029</onsetSec><offsetSec>..</offsetSec>
//              <instrument>HH</instrument></event>
//       ...
//
// A small strict parser of just that, no XML library: it checks that tags nest and close, skips
// the prolog, comments, a DOCTYPE without internal subset and attributes, decodes the five
// predefined entities and character references in the two values it reads, and holds no copy
// of the text (values are views into the buffer). Errors name the line: a tag that does not
// close, an <event> without exactly one <onsetSec> and one <instrument>, a time that is not a
// number. Times are kept as written (public loaders report a few IDMT onsets near 0 written
// negative or with an exponent; prepare leaves hits before 0 s out, counted).
#pragma once

#include <string>
#include <string_view>

#include "cadence/drums/annotation.h"

namespace cadence::drums {

Annotation parse_annotation_xml(std::string_view xml, AnnotationFormat format, const std::string& name);

}  // namespace cadence::drums
