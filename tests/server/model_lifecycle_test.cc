// The model lifecycle over the wire, with a real server on loopback and the
// C++ client library: Load/Unload while streams are running loses or
// corrupts nothing and frees the weights; a deadline or a cancellation stops
// a full-size model in the middle of its work; Load takes a Hugging Face
// model folder.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "backends/io/audio_convert.h"
#include "backends/io/wav.h"
#include "client/codec_client.h"
#include "proto/token_format.h"
#include "server/rpc/codec_service.h"
#include "server/rpc/model_service.h"
#include "tests/testing/await.h"
#include "tests/testing/dac_hf_layout.h"
#include "tests/testing/fixture.h"
#include "tests/testing/loopback_server.h"
#include "tests/testing/manifest.h"

namespace codec::server {
namespace {

// Forwards to a real backend and remembers how its Encode/Decode calls
// ended, so a test can tell a model that was stopped from one that finished.
class RecordingBackend final : public CodecBackend {
  template <typename Stream, typename In, typename Out>
  class RecordingStream final : public Stream {
   public:
    RecordingStream(std::unique_ptr<Stream> inner, const RecordingBackend* owner)
        : inner_(std::move(inner)), owner_(owner) {}
    absl::StatusOr<Out> Push(const In& in) override {
      owner_->pushes_begun_.Add();
      absl::StatusOr<Out> out = inner_->Push(in);
      if (!out.ok()) owner_->Record(out.status());
      return out;
    }
    absl::StatusOr<Out> Finish() override {
      absl::StatusOr<Out> out = inner_->Finish();
      owner_->Record(out.status());
      return out;
    }

   private:
    std::unique_ptr<Stream> inner_;
    const RecordingBackend* owner_;
  };

 public:
  explicit RecordingBackend(std::shared_ptr<CodecBackend> inner) : inner_(std::move(inner)) {}

  const std::string& id() const override { return inner_->id(); }
  absl::Status Load() override { return inner_->Load(); }
  absl::Status Unload() override { return inner_->Unload(); }
  bool IsLoaded() const override { return inner_->IsLoaded(); }
  int64_t MemoryBytes() const override { return inner_->MemoryBytes(); }
  const CodecDescription& description() const override { return inner_->description(); }

  absl::StatusOr<Codes> Encode(const Audio& audio, const EncodeOptions& options) const override {
    absl::StatusOr<Codes> codes = inner_->Encode(audio, options);
    Record(codes.status());
    return codes;
  }
  absl::StatusOr<Audio> Decode(const Codes& codes, const DecodeOptions& options) const override {
    absl::StatusOr<Audio> audio = inner_->Decode(codes, options);
    Record(audio.status());
    return audio;
  }

  // Streams record how their last step (Finish, or the step that failed)
  // ended.
  absl::StatusOr<std::unique_ptr<EncodeStream>> OpenEncodeStream(
      const EncodeOptions& options) const override {
    absl::StatusOr<std::unique_ptr<EncodeStream>> inner = inner_->OpenEncodeStream(options);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<EncodeStream>(
        new RecordingStream<EncodeStream, Audio, Codes>(*std::move(inner), this));
  }
  absl::StatusOr<std::unique_ptr<DecodeStream>> OpenDecodeStream(
      const DecodeOptions& options, int64_t num_samples) const override {
    absl::StatusOr<std::unique_ptr<DecodeStream>> inner =
        inner_->OpenDecodeStream(options, num_samples);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<DecodeStream>(
        new RecordingStream<DecodeStream, Codes, Audio>(*std::move(inner), this));
  }

  std::vector<absl::Status> outcomes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return outcomes_;
  }
  // Whether a stream's step has begun on the model (within the deadline).
  bool AwaitAtWork() const { return pushes_begun_.AwaitAtLeast(1); }

 private:
  void Record(const absl::Status& status) const {
    std::lock_guard<std::mutex> lock(mutex_);
    outcomes_.push_back(status);
  }

  const std::shared_ptr<CodecBackend> inner_;
  mutable std::mutex mutex_;
  mutable std::vector<absl::Status> outcomes_;
  mutable testing::AwaitableCount pushes_begun_;
};

// A loopback codec_server (CodecService + ModelService) whose registry
// builds RecordingBackends and keeps a weak reference to each.
class ModelLifecycleTest : public ::testing::Test {
 protected:
  // `passes`: forward passes at a time (0: no bound).
  void StartServer(const std::string& repository, int passes = 0) {
    registry_ = std::make_unique<ModelRegistry>(
        repository,
        [this](const BackendSpec& spec) -> absl::StatusOr<std::shared_ptr<CodecBackend>> {
          absl::StatusOr<std::shared_ptr<CodecBackend>> inner = CreateBackend(spec);
          if (!inner.ok()) return inner.status();
          auto backend = std::make_shared<RecordingBackend>(*std::move(inner));
          std::lock_guard<std::mutex> lock(built_mutex_);
          built_.push_back(backend);
          return backend;
        },
        0, ServingOptions{.devices = DevicePool::Cpu(passes)});
    codec_service_ = std::make_unique<CodecServiceImpl>(*registry_, StreamLimits{});
    model_service_ =
        std::make_unique<ModelServiceImpl>(*registry_, AccessPolicy(), Administration::kServed);
    server_ = testing::StartLoopbackServer({codec_service_.get(), model_service_.get()});
    ASSERT_NE(server_, nullptr);
    channel_ = server_->channel();
    client_ = std::make_unique<client::CodecClient>(channel_);
  }
  void TearDown() override { server_.reset(); }

  std::shared_ptr<RecordingBackend> LastBuilt() {
    std::lock_guard<std::mutex> lock(built_mutex_);
    return built_.back().lock();
  }

  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<CodecServiceImpl> codec_service_;
  std::unique_ptr<ModelServiceImpl> model_service_;
  std::unique_ptr<testing::LoopbackServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<client::CodecClient> client_;
  std::unique_ptr<v1::CodecService::Stub> stub_;
  std::mutex built_mutex_;
  std::vector<std::weak_ptr<RecordingBackend>> built_;
};

Audio RealSpeechAt(int sample_rate) {
  absl::StatusOr<Audio> wav = io::ReadWav("tests/fixtures/audio/jfk.wav");
  EXPECT_TRUE(wav.ok()) << wav.status();
  std::string report;
  absl::StatusOr<Audio> audio = io::ConvertAudio(*wav, sample_rate, 1, &report);
  EXPECT_TRUE(audio.ok()) << audio.status();
  return *audio;
}

TEST_F(ModelLifecycleTest, LoadAndUnloadUnderTrafficLoseNothingAndFreeTheWeights) {
  testing::UseReferenceThreadCount();
  StartServer(testing::FixtureRepository());
  const std::string model = "speech";
  ASSERT_TRUE(client_->Load(model, "encodec", "encodec24_tiny_bw6").ok());
  const Audio speech = RealSpeechAt(24000);
  absl::StatusOr<Codes> offline = client_->Encode(model, speech, {});
  ASSERT_TRUE(offline.ok()) << offline.status();
  const std::vector<uint32_t> expected = offline->Flatten();

  std::atomic<bool> done{false};
  testing::AwaitableCount correct;
  std::atomic<int> refused{0}, wrong{0};
  // Stopped and joined however the test ends, an ASSERT included.
  testing::JoiningThreads clients([&] { done = true; });
  for (int i = 0; i < 8; ++i) {
    clients.Start([&, i] {
      while (!done) {
        absl::StatusOr<Codes> codes = client_->Encode(model, speech, {}, 4000 + 1000 * i);
        if (codes.ok() && codes->Flatten() == expected) {
          correct.Add();
        } else if (codes.status().code() == absl::StatusCode::kFailedPrecondition) {
          ++refused;  // Asked while UNLOADING or UNLOADED: refused before any work.
        } else {
          ++wrong;
          ADD_FAILURE() << "stream " << i << ": " << codes.status();
        }
      }
    });
  }
  for (int cycle = 0; cycle < 4; ++cycle) {
    ASSERT_TRUE(correct.AwaitAtLeast(4 * (cycle + 1)))
        << "cycle " << cycle << ": " << correct.value() << " streams correct";
    std::weak_ptr<RecordingBackend> backend = LastBuilt();
    absl::StatusOr<v1::ModelInfo> loaded = client_->Get(model);
    ASSERT_TRUE(loaded.ok());
    EXPECT_GT(loaded->memory_bytes(), 0u);

    ASSERT_TRUE(client_->Unload(model).ok());
    absl::StatusOr<v1::ModelInfo> unloaded = client_->Get(model);
    ASSERT_TRUE(unloaded.ok());
    EXPECT_EQ(unloaded->state(), v1::MODEL_STATE_UNLOADED);
    EXPECT_EQ(unloaded->memory_bytes(), 0u);
    EXPECT_TRUE(backend.expired()) << "Unload returned while the backend was still held";

    absl::StatusOr<v1::ModelInfo> reloaded = client_->Load(model, "encodec", "encodec24_tiny_bw6");
    ASSERT_TRUE(reloaded.ok()) << reloaded.status();
    EXPECT_EQ(reloaded->state(), v1::MODEL_STATE_READY);
  }
  clients.JoinAll();
  EXPECT_EQ(wrong, 0);
  std::cout << correct.value() << " streams correct, " << refused << " refused while unloaded\n";
}

// A DAC folder as the hub has it (descript/dac_*: model.safetensors in
// transformers' layout and its config.json) loads over Load with the family
// alone, and codes and decodes as the reference does.
TEST_F(ModelLifecycleTest, LoadTakesADacHuggingFaceFolder) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("dac16_tiny");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  ASSERT_TRUE(testing::WriteDacHuggingFaceFolder(fixture->dir + "/weights.pth",
                                                 testing::WeightNormForm::kParametrizations,
                                                 ::testing::TempDir() + "/dac_16khz_hf")
                  .ok());
  StartServer(::testing::TempDir());
  absl::StatusOr<v1::ModelInfo> info = client_->Load("dac_hf", "dac", "dac_16khz_hf");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->state(), v1::MODEL_STATE_READY);
  EXPECT_EQ(info->description().sample_rate(), 16000);

  absl::StatusOr<Codes> codes =
      client_->Encode("dac_hf", fixture->input, fixture->ReferenceEncodeOptions());
  ASSERT_TRUE(codes.ok()) << codes.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*codes, fixture->expected_codes);
  ASSERT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.999);
  absl::StatusOr<Audio> decoded = client_->Decode("dac_hf", fixture->expected_codes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_LE(testing::MaxAbsDiff(*decoded, fixture->expected_decode), 1e-4);
}

// A full-size SNAC (random weights of the published shapes) takes seconds on
// 30 s of audio, long enough for a deadline or a cancel to land mid-network.
// One model call runs at a time, so a second call waits for the first.
class StopMidwayTest : public ModelLifecycleTest {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> weights =
        testing::WriteManifestCheckpoint("snac_24khz", ::testing::TempDir());
    ASSERT_TRUE(weights.ok()) << weights.status();
    StartServer(::testing::TempDir(), /*passes=*/1);
    ASSERT_TRUE(client_->Load("big", "snac_24khz", *weights).ok());
    stub_ = v1::CodecService::NewStub(channel_);
  }

  // Uploads 30 s of random tokens (levels of 352, 704 and 1408 frames,
  // strides 4, 2, 1) to decode: milliseconds of upload, many seconds of
  // decoding. Returns once the model is at work on it.
  std::unique_ptr<grpc::ClientReaderWriter<v1::DecodeRequest, v1::DecodeResponse>> StartLongDecode(
      grpc::ClientContext& context) {
    Codes codes;
    std::mt19937 random(7);
    for (int64_t frames : {352, 704, 1408}) {
      CodeLevel level{.num_codebooks = 1, .frames = frames};
      for (int64_t t = 0; t < frames; ++t) level.values.push_back(random() % 4096);
      codes.levels.push_back(level);
    }
    auto stream = stub_->Decode(&context);
    v1::DecodeRequest request;
    request.mutable_config()->set_model_id("big");
    request.mutable_config()->set_format(v1::SAMPLE_FORMAT_F32LE);
    EXPECT_TRUE(stream->Write(request));
    *request.mutable_tokens() = v1::TokenChunkFromCodes(codes);
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->WritesDone());
    EXPECT_TRUE(LastBuilt()->AwaitAtWork()) << "the decode never reached the model";
    return stream;
  }

  // Cancels a stream StartLongDecode began and returns how it ended.
  static grpc::StatusCode CancelAndFinish(
      grpc::ClientContext& context,
      grpc::ClientReaderWriter<v1::DecodeRequest, v1::DecodeResponse>& stream) {
    context.TryCancel();
    v1::DecodeResponse response;
    while (stream.Read(&response)) {
    }
    return stream.Finish().error_code();
  }

  // Waits for the model's in-flight call to end (Unload waits for it), then
  // returns how the backend's calls ended.
  std::vector<absl::Status> OutcomesAfterDrain() {
    std::shared_ptr<RecordingBackend> backend = LastBuilt();
    EXPECT_TRUE(client_->Unload("big").ok());
    return backend->outcomes();
  }
};

// The weights leave with Unload: the registry reports none held and the
// backend that held them is gone. (How far resident memory falls is the
// soak's to measure: bench/soak.py.)
TEST_F(StopMidwayTest, UnloadGivesTheWeightsBack) {
  absl::StatusOr<v1::ModelInfo> info = client_->Get("big");
  ASSERT_TRUE(info.ok());
  EXPECT_GT(info->memory_bytes(), 70u << 20) << "full-size SNAC 24 kHz holds ~79 MB of weights";
  std::weak_ptr<RecordingBackend> backend = LastBuilt();
  ASSERT_TRUE(client_->Unload("big").ok());
  absl::StatusOr<v1::ModelInfo> unloaded = client_->Get("big");
  ASSERT_TRUE(unloaded.ok());
  EXPECT_EQ(unloaded->memory_bytes(), 0u);
  EXPECT_TRUE(backend.expired()) << "Unload returned while the backend was still held";
}

TEST_F(StopMidwayTest, DeadlineStopsEncodeInsideTheNetwork) {
  Audio speech = RealSpeechAt(24000);
  const size_t once = speech.samples.size();
  for (int i = 0; i < 2; ++i) {
    speech.samples.insert(speech.samples.end(), speech.samples.begin(),
                          speech.samples.begin() + once);
  }
  client::CodecClient hurried(channel_, absl::Seconds(1));
  EXPECT_EQ(hurried.Encode("big", speech, {}).status().code(), absl::StatusCode::kDeadlineExceeded);
  const std::vector<absl::Status> outcomes = OutcomesAfterDrain();
  ASSERT_EQ(outcomes.size(), 1u) << "the encode never reached the model";
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kDeadlineExceeded) << outcomes[0];
}

TEST_F(StopMidwayTest, CancelStopsDecodeInsideTheNetwork) {
  grpc::ClientContext context;
  auto stream = StartLongDecode(context);
  EXPECT_EQ(CancelAndFinish(context, *stream), grpc::StatusCode::CANCELLED);
  const std::vector<absl::Status> outcomes = OutcomesAfterDrain();
  ASSERT_EQ(outcomes.size(), 1u) << "the decode never reached the model";
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kCancelled) << outcomes[0];
}

TEST_F(StopMidwayTest, ACallWaitingForItsTurnStopsAtItsDeadlineWithoutRunning) {
  grpc::ClientContext context;
  auto stream = StartLongDecode(context);  // Holds the one model call.
  client::CodecClient hurried(channel_, absl::Seconds(1));
  EXPECT_EQ(hurried.Encode("big", RealSpeechAt(24000), {}).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  // It gave up at its deadline, while the decode (tens of seconds) still ran.
  EXPECT_TRUE(LastBuilt()->outcomes().empty()) << "the decode ended before the encode gave up";
  EXPECT_EQ(CancelAndFinish(context, *stream), grpc::StatusCode::CANCELLED);
  const std::vector<absl::Status> outcomes = OutcomesAfterDrain();
  ASSERT_EQ(outcomes.size(), 1u) << "only the decode may reach the model";
  EXPECT_EQ(outcomes[0].code(), absl::StatusCode::kCancelled) << outcomes[0];
}

}  // namespace
}  // namespace codec::server
