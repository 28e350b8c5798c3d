// Decodes every audio file of a corpus on all cores and reports, per file, its header, its
// duration and its level (peak, RMS). It is the first pass of drum-data preparation (durations
// are checked against the CSV and the MIDI) and the engine behind `cadence sample summary`.
// A file that fails to decode becomes a row with ok = false and the reason; the scan goes on.
#pragma once

#include <string>
#include <vector>

#include "cadence/arrow/array.h"
#include "cadence/runtime/job.h"

namespace cadence::drums {

// Columns: path (utf8), ok (bool), error (utf8, null when ok), sample_rate_hz (int32),
// channels (int16), frames (int64), duration_s (float64), peak (float32, full scale 1.0),
// rms_dbfs (float32). Rows are in input order whatever the number of jobs.
// Progress counters: total, files, failed, audio_ms. Stage: decode+stats.
// With a non-empty `archive_path`, `paths` are members of that zip: each worker reads them into
// memory through its own handle (the member's bytes reserved from the budget; one declaring more
// than the memory limit fails without being read) and a damaged member is a failed row.
arrow::ArrayPtr scan_corpus(const std::vector<std::string>& paths, runtime::Job& job,
                            const std::string& archive_path = "");

}  // namespace cadence::drums
