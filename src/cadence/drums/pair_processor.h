// Everything that happens to one annotation + audio pair, on one worker: parse the MIDI (full
// tempo map) or the dataset's own annotation files (annotation.h: labels to GM pitches), map
// pitches to classes and merge simultaneous hits, decode and resample the audio (stems summed),
// check durations, then cut and encode clips (the "clips" layout) or encode the file once and
// list its onsets (the "index" layout). A bad pair becomes a rejection with a reason code from
// a fixed list, never an exception that stops the run.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cadence/arrow/array.h"
#include "cadence/drums/class_map.h"
#include "cadence/drums/clip_codec.h"
#include "cadence/drums/kit_map.h"
#include "cadence/drums/label_table.h"
#include "cadence/io/audio/flac_encoder.h"
#include "cadence/io/zip/archive.h"
#include "cadence/runtime/job.h"

namespace cadence::drums {

enum class Layout { Clips, Index };

struct PrepareConfig {
  Layout layout = Layout::Index;
  int sample_rate_hz = 22050;  // 0 keeps each file's own rate
  double merge_s = 0.010;
  double pad_before_s = 0.02;  // clips: window = [onset - pad_before, onset - pad_before + clip]
  double clip_s = 0.2;
  Codec codec = Codec::Auto;  // clips layout; the index layout stores each file with index_codec
  Codec index_codec = Codec::Flac;
  int flac_level = 0;  // the fastest; on drum clips levels 0-2 compress alike (bench/RESULTS.md)
  // Index layout, FLAC: samples per frame. Every frame's byte offset is stored (frame_offsets),
  // so a reader decodes only the frames a window covers (docs/ARCHITECTURE.md, fixed decisions).
  std::uint32_t index_block_size = 1152;
  double csv_tolerance_s = 1.0;   // |audio length - CSV duration| allowed
  double midi_tolerance_s = 1.0;  // how far the last note may lie past the end of the audio
  // MIDI channels whose notes are hits: bit c for channel c (0..15; 9 is General MIDI drums).
  // All by default, as E-GMD needs; the other channels' notes are counted, not used.
  std::uint16_t channel_mask = 0xFFFF;
  ClassMap class_map = ClassMap::builtin("gmd9");
  // Non-empty: the pairs' paths are members of this zip, read into memory by each worker
  // through its own handle (io/zip/archive.h); empty: they are files.
  std::string archive_path;
  // MIDI/audio alignment (alignment.h), estimated for every pair. Beyond max_offset_s (NaN: no
  // limit) a pair is rejected as misaligned; with align_onsets the onsets are moved by the
  // estimated offset before the records are made.
  double max_offset_s = std::nan("");
  bool align_onsets = false;
};

// One pair: its annotation(s) and its audio. E-GMD and plain pairs give one MIDI file and one
// audio file (midi_path, audio_path). The other datasets (issue 19) fill annotation_paths /
// audio_paths instead, which then replace those two: several annotation files are merged (hits
// sorted by time, then the merge rule), several audio files (Slakh's drum stems, StemGMD's
// stems) are summed sample by sample after each is averaged to mono and brought to the output
// rate (a shorter one is padded with silence).
struct PairInput {
  std::string midi_path;
  std::string audio_path;
  double csv_duration_s = std::nan("");  // NaN when there is no CSV
  std::vector<std::string> annotation_paths;  // non-empty: read instead of midi_path
  AnnotationFormat annotation_format = AnnotationFormat::Midi;
  std::vector<std::string> audio_paths;  // non-empty: read instead of audio_path
  // Empty: pitches as read. Else one per annotation path (kit_map.h; an empty one: as read).
  std::vector<KitMap> kit_maps;
};

// Reject reasons, a fixed list (their names are what the reject log and tests use).
enum class Reject {
  None,
  MissingMidi,
  MissingAudio,
  BadMidi,
  BadAudio,
  NoNotes,
  EmptyAudio,
  DurationMismatch,
  MidiPastAudio,
  ProcessingError,  // a step threw (resampler, encoder set-up, allocation): this pair only
  ZipCorrupt,       // a member of the archive cannot be read (truncated, bad deflate data)
  ZipCrcMismatch,   // a member's CRC-32 differs from the archive directory's
  ZipTooLarge,      // a member declares more bytes than the memory limit (a zip bomb?)
  Misaligned,       // the audio lies further from the MIDI than max_offset_s
  MissingAnnotation,  // a text/XML annotation file (annotation_paths) is not there
  BadAnnotation,      // a text/XML annotation cannot be read: the message is FILE:LINE: reason
};
inline constexpr int kRejectCount = static_cast<int>(Reject::BadAnnotation) + 1;
const char* reject_name(Reject r) noexcept;

struct PairStats {
  std::int64_t notes = 0;
  std::int64_t onsets = 0;
  std::int64_t unmapped_hits = 0;
  std::array<std::int64_t, 128> unmapped_by_pitch{};
  int source_rate_hz = 0;
  double audio_s = 0;
  double midi_end_s = 0;
  std::array<std::int64_t, 16> notes_by_channel{};  // every note of the file, used or not
  std::int64_t notes_other_channels = 0;            // left out by the channel filter
  // Onsets at or after the end of the (resampled) audio, within --midi-tolerance: their windows
  // would hold no audio, so they are left out of the records and counted here.
  std::int64_t onsets_past_audio = 0;
  std::int64_t samples_out = 0;                // at the output rate
  std::array<std::int64_t, kCodecCount> clips_by_codec{};  // indexed by Codec
  std::array<std::int64_t, kCodecCount> bytes_by_codec{};
  std::int64_t raw_float32_bytes = 0;  // what the stored audio would take as float32
  // Alignment: audio time - MIDI time (NaN when it could not be estimated), the peak's
  // prominence, and whether the onsets were moved by it (--align).
  double align_offset_s = std::nan("");
  double align_peak_ratio = 0;
  bool aligned = false;
  std::int64_t onsets_before_audio = 0;  // before 0 s (moved there by --align, or annotated so): left out, counted
  // Annotation labels with no GM pitch (label_table.h): label -> hits, sorted by label.
  std::vector<std::pair<std::string, std::int64_t>> unmapped_labels;
};

struct PairResult {
  Reject reject = Reject::None;
  std::string message;     // for a rejection: what was wrong, naming the file
  std::vector<std::string> warnings;  // e.g. from the MIDI parser
  arrow::ArrayPtr records;  // clips: one row per onset with audio; index: onsets only
  arrow::ArrayPtr audio;    // index layout: one row holding the whole file's audio
  PairStats stats;
  runtime::Reservation held;  // the bytes of `records` + `audio`, until the consumer is done
};

// Per-worker state reused across pairs.
struct PairScratch {
  explicit PairScratch(const PrepareConfig& c)
      : flac(c.flac_level), index_flac(c.flac_level, c.index_block_size) {}
  io::audio::FlacEncoder flac;        // clips: each a whole stream, the level's block size
  io::audio::FlacEncoder index_flac;  // index layout: fixed block size, frame table recorded
  std::unique_ptr<io::zip::Archive> archive;  // this worker's handle on config.archive_path
};

// `may_overdraw` is passed to the memory budget (see MemoryBudget::reserve).
PairResult process_pair(const PairInput& input, const PrepareConfig& config, PairScratch& scratch,
                        runtime::Job& job, const std::function<bool()>& may_overdraw);

}  // namespace cadence::drums
