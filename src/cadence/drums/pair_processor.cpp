#include "cadence/drums/pair_processor.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>

#include "cadence/drums/alignment.h"
#include "cadence/drums/annotation.h"
#include "cadence/drums/onset_merge.h"
#include "cadence/drums/window.h"
#include "cadence/io/audio/decoder.h"
#include "cadence/io/midi/smf.h"
#include "cadence/kernels/resample.h"

namespace cadence::drums {

const char* reject_name(Reject r) noexcept {
  switch (r) {
    case Reject::None: return "none";
    case Reject::MissingMidi: return "missing_midi";
    case Reject::MissingAudio: return "missing_audio";
    case Reject::BadMidi: return "bad_midi";
    case Reject::BadAudio: return "bad_audio";
    case Reject::NoNotes: return "no_notes";
    case Reject::EmptyAudio: return "empty_audio";
    case Reject::DurationMismatch: return "duration_mismatch";
    case Reject::MidiPastAudio: return "midi_past_audio";
    case Reject::ProcessingError: return "processing_error";
    case Reject::ZipCorrupt: return "zip_corrupt";
    case Reject::ZipCrcMismatch: return "zip_crc_mismatch";
    case Reject::ZipTooLarge: return "zip_too_large";
    case Reject::Misaligned: return "misaligned";
    case Reject::MissingAnnotation: return "missing_annotation";
    case Reject::BadAnnotation: return "bad_annotation";
  }
  return "?";
}

namespace {

struct Rejection {
  Reject reason;
  std::string message;
};

std::string fmt_s(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f s", s);
  return buf;
}

// Per-record columns shared by both layouts.
struct OnsetColumns {
  std::vector<std::int32_t> index;
  std::vector<double> onset_s;
  std::vector<std::int64_t> onset_sample;
  std::vector<std::int32_t> hit_offsets{0};
  std::vector<std::uint8_t> pitches, velocities, multi_hot, class_velocity;
};

OnsetColumns onset_columns(const std::vector<Onset>& onsets, int rate_hz) {
  OnsetColumns c;
  for (std::size_t k = 0; k < onsets.size(); ++k) {
    const Onset& o = onsets[k];
    c.index.push_back(static_cast<std::int32_t>(k));
    c.onset_s.push_back(o.onset_s);
    c.onset_sample.push_back(onset_sample(o.onset_s, rate_hz));
    c.pitches.insert(c.pitches.end(), o.pitches.begin(), o.pitches.end());
    c.velocities.insert(c.velocities.end(), o.velocities.begin(), o.velocities.end());
    c.hit_offsets.push_back(static_cast<std::int32_t>(c.pitches.size()));
    c.multi_hot.insert(c.multi_hot.end(), o.multi_hot.begin(), o.multi_hot.end());
    c.class_velocity.insert(c.class_velocity.end(), o.class_velocity.begin(), o.class_velocity.end());
  }
  return c;
}

std::vector<arrow::Field> onset_fields(OnsetColumns c, std::size_t n_classes, int rate_hz) {
  const auto n = c.index.size();
  const auto k = static_cast<std::int32_t>(n_classes);
  auto offsets = c.hit_offsets;
  return {
      {"onset_index", arrow::primitive(std::move(c.index)), false},
      {"onset_s", arrow::primitive(std::move(c.onset_s)), false},
      {"onset_sample", arrow::primitive(std::move(c.onset_sample)), false},
      {"sample_rate_hz", arrow::primitive(std::vector<std::int32_t>(n, rate_hz)), false},
      {"pitches", arrow::list(std::move(offsets), arrow::primitive(std::move(c.pitches))), false},
      {"velocities", arrow::list(std::move(c.hit_offsets), arrow::primitive(std::move(c.velocities))),
       false},
      {"classes", arrow::fixed_size_list(k, arrow::primitive(std::move(c.multi_hot))), false},
      {"class_velocity", arrow::fixed_size_list(k, arrow::primitive(std::move(c.class_velocity))),
       false},
  };
}

void count(PairStats& s, const EncodedClip& clip, std::size_t samples) {
  const auto c = static_cast<std::size_t>(clip.codec);
  ++s.clips_by_codec[c];
  s.bytes_by_codec[c] += static_cast<std::int64_t>(clip.bytes.size());
  s.raw_float32_bytes += static_cast<std::int64_t>(samples * sizeof(float));
}

std::string channel_list(std::uint16_t mask) {
  std::string s;
  for (int c = 0; c < 16; ++c)
    if (mask & (1u << c)) s += (s.empty() ? "" : ", ") + std::to_string(c + 1);
  return s;
}

// The notes per channel, as "1: 200, 10: 312" (channels numbered 1..16, as users know them).
std::string channel_counts(const std::array<std::int64_t, 16>& n) {
  std::string s;
  for (int c = 0; c < 16; ++c)
    if (n[c]) s += (s.empty() ? "" : ", ") + std::to_string(c + 1) + ": " + std::to_string(n[c]);
  return s;
}

std::string fmt_ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f ms", s * 1e3);
  return buf;
}

// An archive member as messages name it: "e-gmd-v1.0.0.zip:drummer1/.../1_funk_80_beat_4-4_1.wav".
std::string member_name(const PrepareConfig& cfg, const std::string& member) {
  return cfg.archive_path + ":" + member;
}

Reject zip_reject(const io::zip::ZipError& e) {
  switch (e.fault()) {
    case io::zip::ZipFault::Crc: return Reject::ZipCrcMismatch;
    case io::zip::ZipFault::TooLarge: return Reject::ZipTooLarge;
    default: return Reject::ZipCorrupt;
  }
}

// Several paths as a message names them: "a.wav" for one, "a.wav + b.wav" for stems.
std::string joined(std::span<const std::string> paths) {
  std::string s;
  for (const auto& p : paths) s += (s.empty() ? "" : " + ") + p;
  return s;
}

// The pair's annotation and audio paths, whichever fields of PairInput hold them.
std::span<const std::string> annotation_paths(const PairInput& in) {
  return in.annotation_paths.empty() ? std::span<const std::string>(&in.midi_path, 1) : in.annotation_paths;
}
std::span<const std::string> audio_paths(const PairInput& in) {
  return in.audio_paths.empty() ? std::span<const std::string>(&in.audio_path, 1) : in.audio_paths;
}
AnnotationFormat annotation_format(const PairInput& in) {
  return in.annotation_paths.empty() ? AnnotationFormat::Midi : in.annotation_format;
}

// Adds one file's unmapped-label counts into the pair's (both sorted by label).
void add_unmapped(std::vector<std::pair<std::string, std::int64_t>>& into,
                  const std::vector<std::pair<std::string, std::int64_t>>& more) {
  for (const auto& [label, n] : more) {
    auto it = std::lower_bound(into.begin(), into.end(), label,
                               [](const auto& e, const std::string& l) { return e.first < l; });
    if (it != into.end() && it->first == label) it->second += n;
    else into.insert(it, {label, n});
  }
}

// Where process_pair is; named in the message when a step throws.
struct Step {
  const char* name = "setup";
};

PairResult process_pair_steps(const PairInput& in, const PrepareConfig& cfg, PairScratch& scratch,
                              runtime::Job& job, const std::function<bool()>& may_overdraw, Step& step);

}  // namespace

PairResult process_pair(const PairInput& in, const PrepareConfig& cfg, PairScratch& scratch,
                        runtime::Job& job, const std::function<bool()>& may_overdraw) {
  // A bad pair must never stop the run: whatever a step throws (soxr, the FLAC encoder's
  // set-up, an allocation) becomes this pair's rejection. Only cancellation goes through.
  Step step;
  try {
    return process_pair_steps(in, cfg, scratch, job, may_overdraw, step);
  } catch (const runtime::Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    PairResult r;
    r.reject = Reject::ProcessingError;
    r.message = joined(audio_paths(in)) + ": " + step.name + " failed: " + e.what();
    return r;
  }
}

namespace {

PairResult process_pair_steps(const PairInput& in, const PrepareConfig& cfg, PairScratch& scratch,
                              runtime::Job& job, const std::function<bool()>& may_overdraw, Step& step) {
  PairResult r;
  auto reject = [&r](Reject why, std::string message) {
    r.reject = why;
    r.message = std::move(message);
    return std::move(r);
  };
  auto& timers = job.timers();
  namespace fs = std::filesystem;
  std::error_code ec;
  // From a zip: the members' directory entries stand for the files (io/zip/archive.h).
  const bool zipped = !cfg.archive_path.empty();
  const auto ann_paths = annotation_paths(in);
  const auto wav_paths = audio_paths(in);
  const AnnotationFormat format = annotation_format(in);
  const bool midi_format = format == AnnotationFormat::Midi;
  const std::string ann_name = joined(ann_paths), audio_label = joined(wav_paths);
  std::vector<io::zip::MemberInfo> ann_members, audio_members;
  if (zipped) {
    step.name = "open archive";
    if (!scratch.archive || scratch.archive->path() != cfg.archive_path)
      scratch.archive = std::make_unique<io::zip::Archive>(cfg.archive_path);
    for (const auto& p : ann_paths) {
      auto m = scratch.archive->stat(p);
      if (!m)
        return midi_format ? reject(Reject::MissingMidi, member_name(cfg, p) + ": MIDI member not found in the archive")
                           : reject(Reject::MissingAnnotation, member_name(cfg, p) + ": annotation member not found in the archive");
      ann_members.push_back(*m);
    }
    for (const auto& p : wav_paths) {
      auto m = scratch.archive->stat(p);
      if (!m) return reject(Reject::MissingAudio, member_name(cfg, p) + ": audio member not found in the archive");
      audio_members.push_back(*m);
    }
  } else {
    for (const auto& p : ann_paths)
      if (!fs::is_regular_file(p, ec))
        return midi_format ? reject(Reject::MissingMidi, p + ": MIDI file not found")
                           : reject(Reject::MissingAnnotation, p + ": annotation file not found");
    for (const auto& p : wav_paths)
      if (!fs::is_regular_file(p, ec)) return reject(Reject::MissingAudio, p + ": audio file not found");
  }
  // A member larger than the whole memory limit is refused before it is read (zip bombs).
  const std::uint64_t member_max =
      job.budget().limit_bytes() ? job.budget().limit_bytes() : std::numeric_limits<std::uint64_t>::max();

  // Annotations -> hits -> merged onsets.
  std::vector<Onset> onsets;
  MergeStats merge_stats;
  {
    step.name = midi_format ? "MIDI" : "annotation";
    runtime::ScopedStage t(timers.stage("midi"));
    std::vector<Hit> hits;
    std::int64_t notes_read = 0;
    for (std::size_t k = 0; k < ann_paths.size(); ++k) {
      const std::string& path = ann_paths[k];
      static const KitMap kAsRead;
      const KitMap& kit_map = in.kit_maps.empty() ? kAsRead : in.kit_maps[k];
      if (midi_format) {
        io::midi::MidiFile midi;
        try {
          if (zipped) {
            const auto bytes = scratch.archive->read(ann_members[k], path, member_max);
            midi = io::midi::parse_smf(bytes, member_name(cfg, path));
          } else {
            midi = io::midi::read_smf(path);
          }
        } catch (const io::midi::MidiError& e) {
          return reject(Reject::BadMidi, e.what());
        } catch (const io::zip::ZipError& e) {
          return reject(zip_reject(e), e.what());
        }
        r.warnings.insert(r.warnings.end(), std::make_move_iterator(midi.warnings.begin()),
                          std::make_move_iterator(midi.warnings.end()));
        notes_read += static_cast<std::int64_t>(midi.notes.size());
        hits.reserve(hits.size() + midi.notes.size());
        for (const auto& n : midi.notes) {
          ++r.stats.notes_by_channel[n.channel & 15];
          if (cfg.channel_mask & (1u << (n.channel & 15))) {
            push_mapped(hits, {n.onset_s, n.pitch, n.velocity}, kit_map);
          } else {
            ++r.stats.notes_other_channels;
          }
        }
      } else {
        Annotation a;
        try {
          if (zipped) {
            const auto bytes = scratch.archive->read(ann_members[k], path, member_max);
            a = parse_annotation({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, format,
                                 member_name(cfg, path));
          } else {
            a = read_annotation(path, format);
          }
        } catch (const AnnotationError& e) {
          return reject(Reject::BadAnnotation, e.what());
        } catch (const io::zip::ZipError& e) {
          return reject(zip_reject(e), e.what());
        }
        notes_read += static_cast<std::int64_t>(a.hits.size());
        add_unmapped(r.stats.unmapped_labels, a.unmapped_labels);
        for (const Hit& h : a.hits) push_mapped(hits, h, kit_map);
      }
    }
    if (!midi_format && hits.empty()) {
      std::string labels;
      for (const auto& [label, n] : r.stats.unmapped_labels)
        labels += (labels.empty() ? "" : ", ") + label + ": " + std::to_string(n);
      return reject(Reject::NoNotes, ann_name + ": no annotated hit with a pitch" +
                                         (labels.empty() ? std::string() : " (labels without one: " + labels + ")"));
    }
    if (notes_read == 0) return reject(Reject::NoNotes, ann_name + ": no notes");
    if (hits.empty())
      return reject(Reject::NoNotes, ann_name + ": no notes on channel(s) " + channel_list(cfg.channel_mask) +
                                         "; its notes are on channel(s) " + channel_counts(r.stats.notes_by_channel));
    // The last hit kept (one MIDI file's notes are sorted by onset: its last one).
    r.stats.midi_end_s = std::max_element(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
                           return a.onset_s < b.onset_s;
                         })->onset_s;
    onsets = merge_hits(std::move(hits), cfg.merge_s, cfg.class_map, &merge_stats);
    r.stats.notes = merge_stats.hits;
    r.stats.unmapped_hits = merge_stats.unmapped_hits;
    r.stats.unmapped_by_pitch = merge_stats.unmapped_by_pitch;
    // Annotated before 0 s (MIDI cannot be): no audio there; left out, counted.
    const auto first = std::find_if(onsets.begin(), onsets.end(), [](const Onset& o) { return o.onset_s >= 0.0; });
    r.stats.onsets_before_audio = static_cast<std::int64_t>(first - onsets.begin());
    onsets.erase(onsets.begin(), first);
    r.stats.onsets = static_cast<std::int64_t>(onsets.size());
  }

  // Audio: each source probed, its decode + resample buffers reserved, decoded; the duration
  // checks; then each resampled to the output rate and, for several sources, summed.
  const int n_audio = static_cast<int>(wav_paths.size());
  std::vector<io::audio::DecodedAudio> decoded(wav_paths.size());
  std::vector<runtime::Reservation> work;  // held to the end, as the output replaces them
  int rate = 0;
  for (int k = 0; k < n_audio; ++k) {
    const std::string& path = wav_paths[k];
    step.name = "audio probe";
    io::audio::AudioInfo info;
    // From a zip, the encoded member is held in memory until decoded, its bytes reserved first.
    std::vector<std::uint8_t> encoded;
    runtime::Reservation encoded_hold;
    const std::string audio_name = zipped ? member_name(cfg, path) : path;
    try {
      if (zipped) {
        step.name = "read member";
        if (audio_members[k].size <= member_max)
          encoded_hold = runtime::Reservation(job.budget(), audio_members[k].read_bytes(), &job.cancellation(), may_overdraw);
        runtime::ScopedStage t(timers.stage("unzip"));
        encoded = scratch.archive->read(audio_members[k], path, member_max);
        step.name = "audio probe";
        info = io::audio::Reader(encoded.data(), encoded.size(), audio_name).info();
      } else {
        info = io::audio::probe(path);
      }
    } catch (const io::audio::AudioError& e) {
      return reject(Reject::BadAudio, e.what());
    } catch (const io::zip::ZipError& e) {
      return reject(zip_reject(e), e.what());
    }
    if (k == 0) rate = cfg.sample_rate_hz > 0 ? cfg.sample_rate_hz : info.sample_rate_hz;
    const auto out_samples =
        kernels::resampled_length(static_cast<std::size_t>(std::max<std::int64_t>(info.frames, 0)),
                                  info.sample_rate_hz, rate);
    work.emplace_back(job.budget(), io::audio::decoded_bytes(info) + out_samples * sizeof(float),
                      &job.cancellation(), may_overdraw);
    {
      step.name = "decode";
      runtime::ScopedStage t(timers.stage("decode"));
      try {
        decoded[k] = zipped ? io::audio::decode_memory(encoded.data(), encoded.size(), audio_name)
                            : io::audio::decode(path);
      } catch (const io::audio::AudioError& e) {
        return reject(Reject::BadAudio, e.what());
      }
      std::vector<std::uint8_t>().swap(encoded);  // decoded: the member's bytes go back now
      encoded_hold.reset();
    }
    if (k == 0) r.stats.source_rate_hz = info.sample_rate_hz;
    r.stats.audio_s = std::max(r.stats.audio_s, info.duration_s());
    if (decoded[k].samples.empty()) return reject(Reject::EmptyAudio, path + ": no audio samples");
  }
  if (!std::isnan(in.csv_duration_s) && std::fabs(r.stats.audio_s - in.csv_duration_s) > cfg.csv_tolerance_s)
    return reject(Reject::DurationMismatch,
                  audio_label + ": audio lasts " + fmt_s(r.stats.audio_s) + " but the CSV says " +
                      fmt_s(in.csv_duration_s) + " (tolerance " + fmt_s(cfg.csv_tolerance_s) + ")");
  if (r.stats.midi_end_s > r.stats.audio_s + cfg.midi_tolerance_s)
    return reject(Reject::MidiPastAudio,
                  ann_name + ": last note at " + fmt_s(r.stats.midi_end_s) + " but the audio ends at " +
                      fmt_s(r.stats.audio_s) + " (tolerance " + fmt_s(cfg.midi_tolerance_s) + ")");
  std::vector<float> audio;
  {
    step.name = "resample";
    runtime::ScopedStage t(timers.stage("resample"));
    for (int k = 0; k < n_audio; ++k) {
      auto& d = decoded[k];
      auto part = kernels::resample(d.samples.data(), d.samples.size(), d.info.sample_rate_hz, rate);
      std::vector<float>().swap(d.samples);
      if (k == 0) {
        audio = std::move(part);
      } else {
        // Stems of one track: summed sample by sample, a shorter one padded with silence.
        if (part.size() > audio.size()) audio.resize(part.size(), 0.0f);
        for (std::size_t i = 0; i < part.size(); ++i) audio[i] += part[i];
      }
    }
  }
  r.stats.samples_out = static_cast<std::int64_t>(audio.size());

  // MIDI/audio offset, on the output-rate audio; then the limit and the optional correction.
  {
    step.name = "alignment";
    runtime::ScopedStage t(timers.stage("align"));
    std::vector<double> times;
    times.reserve(onsets.size());
    for (const auto& o : onsets) times.push_back(o.onset_s);
    const AlignmentEstimate a = estimate_offset(audio.data(), audio.size(), rate, times);
    if (a.ok) {
      r.stats.align_offset_s = a.offset_s;
      r.stats.align_peak_ratio = a.peak_ratio;
      if (!std::isnan(cfg.max_offset_s) && std::fabs(a.offset_s) > cfg.max_offset_s)
        return reject(Reject::Misaligned, audio_label + ": audio lies " + fmt_ms(a.offset_s) +
                                              " from its MIDI, beyond --max-offset-ms " + fmt_ms(cfg.max_offset_s));
      if (cfg.align_onsets) {
        for (auto& o : onsets) o.onset_s += a.offset_s;
        const auto first = std::find_if(onsets.begin(), onsets.end(), [](const Onset& o) { return o.onset_s >= 0.0; });
        r.stats.onsets_before_audio += static_cast<std::int64_t>(first - onsets.begin());
        onsets.erase(onsets.begin(), first);
        r.stats.aligned = true;
      }
    }
  }

  // Onsets inside --midi-tolerance but at or after the audio's end have no audio to label: leave
  // them out (counted), rather than store windows of zeros as if they were hits.
  step.name = "onsets";
  {
    const auto n_audio = static_cast<std::int64_t>(audio.size());
    const auto past = std::find_if(onsets.begin(), onsets.end(),
                                   [&](const Onset& o) { return onset_sample(o.onset_s, rate) >= n_audio; });
    r.stats.onsets_past_audio = static_cast<std::int64_t>(onsets.end() - past);
    onsets.erase(past, onsets.end());  // sorted by onset: every later one is past the end too
    r.stats.onsets = static_cast<std::int64_t>(onsets.size());
    if (onsets.empty())
      return reject(Reject::MidiPastAudio, ann_name + ": every onset lies at or after the end of the audio (" +
                                               fmt_s(r.stats.audio_s) + ")");
  }

  auto fields = onset_fields(onset_columns(onsets, rate), cfg.class_map.size(), rate);
  std::uint64_t held_bytes = 0;
  {
    step.name = "encode";
    runtime::ScopedStage t(timers.stage("encode"));
    if (cfg.layout == Layout::Clips) {
      const auto clip_n = static_cast<std::size_t>(onset_window(0, cfg.pad_before_s, cfg.clip_s, rate).n_samples);
      std::vector<float> window(clip_n);
      std::string blob_data;  // every clip back to back: the Arrow buffer itself, no second copy
      std::vector<std::int64_t> blob_offsets{0};
      // One byte per sample: FLAC of drums is about half of PCM16, so this rarely regrows.
      blob_data.reserve(onsets.size() * clip_n);
      std::vector<std::int32_t> codecs;
      std::vector<std::int64_t> starts;
      for (const auto& o : onsets) {
        // Zero-padded wherever the window leaves the file (before 0 or past the end).
        const std::int64_t start =
            onset_window(onset_sample(o.onset_s, rate), cfg.pad_before_s, cfg.clip_s, rate).start_sample;
        const std::int64_t end = start + static_cast<std::int64_t>(clip_n);
        // A pointer into the audio only when the whole window lies inside it: forming one past
        // the end (an onset near the end, a long pad) is undefined behaviour even if never read.
        const float* samples = nullptr;
        if (start >= 0 && end <= static_cast<std::int64_t>(audio.size())) {
          samples = audio.data() + start;
        } else {
          // Only windows that leave the file are copied, into zero padding.
          std::fill(window.begin(), window.end(), 0.0f);
          const std::int64_t lo = std::max<std::int64_t>(start, 0);
          const std::int64_t hi = std::min<std::int64_t>(end, static_cast<std::int64_t>(audio.size()));
          if (hi > lo) std::copy(audio.begin() + lo, audio.begin() + hi, window.begin() + (lo - start));
          samples = window.data();
        }
        auto clip = encode_clip(samples, clip_n, rate, cfg.codec, scratch.flac);
        count(r.stats, clip, clip_n);
        held_bytes += clip.bytes.size();
        codecs.push_back(static_cast<std::int32_t>(clip.codec));
        starts.push_back(start);
        blob_data += clip.bytes;
        blob_offsets.push_back(static_cast<std::int64_t>(blob_data.size()));
      }
      std::vector<std::string> names;
      for (int c = 0; c < kCodecCount; ++c) names.emplace_back(codec_name(static_cast<Codec>(c)));
      fields.push_back({"window_start_sample", arrow::primitive(std::move(starts)), false});
      fields.push_back({"n_samples", arrow::primitive(std::vector<std::int32_t>(onsets.size(),
                                                                                 static_cast<std::int32_t>(clip_n))),
                        false});
      fields.push_back({"codec", arrow::dictionary_utf8(std::move(codecs), names), false});
      fields.push_back({"audio", arrow::large_binary(std::move(blob_offsets), std::move(blob_data)), false});
    } else {
      // The file's audio once; FLAC with a fixed block size and the byte offset of every frame,
      // so that a reader decodes only the frames a window covers (audio_store.h).
      io::audio::FlacFrames frames;
      EncodedClip whole = cfg.index_codec == Codec::Flac
                              ? EncodedClip{Codec::Flac, scratch.index_flac.encode(audio.data(), audio.size(), rate, &frames)}
                              : encode_clip(audio.data(), audio.size(), rate, cfg.index_codec, scratch.flac);
      count(r.stats, whole, audio.size());
      held_bytes += whole.bytes.size() + frames.offsets.size() * sizeof(std::uint32_t);
      const auto whole_bytes = static_cast<std::int64_t>(whole.bytes.size());
      const auto n_frames = static_cast<std::int32_t>(frames.offsets.size());
      r.audio = arrow::struct_array({
          {"sample_rate_hz", arrow::primitive(std::vector<std::int32_t>{rate}), false},
          {"n_samples", arrow::primitive(std::vector<std::int64_t>{static_cast<std::int64_t>(audio.size())}), false},
          {"codec", arrow::utf8({codec_name(whole.codec)}), false},
          {"block_size", arrow::primitive(std::vector<std::int32_t>{static_cast<std::int32_t>(frames.block_size)}), false},
          {"header_bytes", arrow::primitive(std::vector<std::int32_t>{static_cast<std::int32_t>(frames.header_bytes)}), false},
          {"frame_offsets", arrow::list({0, n_frames}, arrow::primitive(std::move(frames.offsets))), false},
          {"audio", arrow::large_binary({0, whole_bytes}, std::move(whole.bytes)), false},  // moved, not copied
      });
    }
  }
  step.name = "records";
  r.records = arrow::struct_array(std::move(fields));
  held_bytes += static_cast<std::uint64_t>(onsets.size()) * (64 + 2 * cfg.class_map.size());
  // Hold the output's bytes until the consumer has written them; the working buffers go now.
  r.held = runtime::Reservation(job.budget(), held_bytes, &job.cancellation(), [] { return true; });
  return r;
}

}  // namespace

}  // namespace cadence::drums
