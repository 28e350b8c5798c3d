#include "cadence/drums/annotation_xml.h"

#include <gtest/gtest.h>

using namespace cadence::drums;

namespace {

// Shaped as IDMT-SMT-Drums' annotation_xml files are (the instrumentRecording schema).
constexpr const char* kIdmt = R"(<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<instrumentRecording>
  <globalParameter>
    <audioFileName>RealDrum01_00#MIX.wav</audioFileName>
    <audioTrainingFileName>RealDrum01_00#HH#train.wav</audioTrainingFileName>
  </globalParameter>
  <!-- onsets in seconds -->
  <transcription>
    <event>
      <pitch>0</pitch>
      <onsetSec>0.0290</onsetSec>
      <offsetSec>0.1</offsetSec>
      <instrument>HH</instrument>
    </event>
    <event>
      <pitch>0</pitch>
      <onsetSec> 0.5224 </onsetSec>
      <offsetSec>0.6</offsetSec>
      <instrument>KD</instrument>
    </event>
    <event><instrument>SD</instrument><onsetSec>1.0449</onsetSec></event>
    <event><onsetSec>-1.2e-05</onsetSec><instrument>H&#72;</instrument></event>
    <event><onsetSec>1.5</onsetSec><instrument>TT</instrument></event>
  </transcription>
</instrumentRecording>
)";

std::string error_of(std::string_view xml) {
  try {
    parse_annotation_xml(xml, AnnotationFormat::Idmt, "a.xml");
  } catch (const AnnotationError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(AnnotationXml, IdmtEventsInFileOrder) {
  const auto a = parse_annotation_xml(kIdmt, AnnotationFormat::Idmt, "RealDrum01_00#MIX.xml");
  ASSERT_EQ(a.hits.size(), 4u);
  EXPECT_DOUBLE_EQ(a.hits[0].onset_s, 0.0290);
  EXPECT_EQ(a.hits[0].pitch, 42);
  EXPECT_DOUBLE_EQ(a.hits[1].onset_s, 0.5224);
  EXPECT_EQ(a.hits[1].pitch, 35);
  EXPECT_DOUBLE_EQ(a.hits[2].onset_s, 1.0449);
  EXPECT_EQ(a.hits[2].pitch, 38);
  EXPECT_DOUBLE_EQ(a.hits[3].onset_s, -1.2e-05);  // kept as written; &#72; is 'H'
  EXPECT_EQ(a.hits[3].pitch, 42);
  EXPECT_EQ(a.hits[0].velocity, kAnnotationVelocity);
  using P = std::pair<std::string, std::int64_t>;
  EXPECT_EQ(a.unmapped_labels, (std::vector<P>{{"TT", 1}}));
  EXPECT_EQ(a.lines, 5);
}

TEST(AnnotationXml, MalformedInputNamesTheLine) {
  EXPECT_EQ(error_of("<r>\n<event><onsetSec>0.1</onsetSec></event>\n</r>"),
            "a.xml:2: the <event> opened on line 2 has no <instrument>");
  EXPECT_EQ(error_of("<r>\n<event>\n<onsetSec>x</onsetSec><instrument>KD</instrument></event></r>"),
            "a.xml:3: onsetSec 'x' is not a number of seconds");
  EXPECT_EQ(error_of("<r>\n<event><onsetSec>0.1</onsetSec>\n<instrument>KD</event></r>"),
            "a.xml:3: </event> closes <instrument> opened on line 3");
  EXPECT_EQ(error_of("<r>\n<transcription>\n<event><onsetSec>0.1</onsetSec><instrument>KD</instrument></event>\n"),
            "a.xml:4: the file ends inside <transcription> opened on line 2");
  EXPECT_EQ(error_of("<r><event><onsetSec>1</onsetSec><onsetSec>2</onsetSec></event></r>"),
            "a.xml:1: a second <onsetSec> in the <event> opened on line 1");
  EXPECT_EQ(error_of("<r><event><onsetSec>1<b/></onsetSec></event></r>"),
            "a.xml:1: <b> inside <onsetSec>, which holds a value");
  EXPECT_EQ(error_of("<r><event><instrument>&foo;</instrument><onsetSec>1</onsetSec></event></r>"),
            "a.xml:1: unknown entity '&foo;'");
  EXPECT_EQ(error_of("0.1 KD\n"), "a.xml:1: text outside the root element");
  EXPECT_EQ(error_of(""), "a.xml:1: no root element: not an XML annotation");
  EXPECT_EQ(error_of("<r></r><s/>"), "a.xml:1: a second root element <s>");
  EXPECT_EQ(error_of("<r>\n<!-- open"), "a.xml:2: unterminated comment");
  EXPECT_EQ(error_of("<r><event a=\"x>y\"><onsetSec>1</onsetSec><instrument>SD</instrument></event></r>"),
            "no error");  // '>' inside a quoted attribute does not end the tag
}
