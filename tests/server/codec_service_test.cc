// codec.v1.CodecService end to end: a real server on loopback, real gRPC
// clients, real audio; streamed results equal the offline backend's.

#include "server/codec_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "server/pcm_format.h"
#include "tests/testing/fixture.h"

namespace codec::server {
namespace {

class CodecServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
      BackendSpec spec{.id = id,
                       .model = id == std::string("snac24_tiny")  ? "snac"
                                : id == std::string("dac16_tiny") ? "dac"
                                                                  : "encodec",
                       .weights = id};
      ASSERT_TRUE(registry_.Load(spec).ok()) << id;
    }
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::CodecService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  // Streams `audio` to Encode in chunks of `chunk_frames`.
  grpc::Status Encode(const std::string& model, const Audio& audio, int64_t chunk_frames,
                      v1::SampleFormat format, Codes* codes) {
    grpc::ClientContext context;
    auto stream = stub_->Encode(&context);
    v1::EncodeRequest request;
    request.mutable_config()->set_model_id(model);
    request.mutable_config()->set_sample_rate(audio.sample_rate);
    request.mutable_config()->set_channels(audio.channels);
    request.mutable_config()->set_format(format);
    stream->Write(request);
    for (int64_t first = 0; first < audio.num_frames(); first += chunk_frames) {
      request.set_pcm(
          PcmFromAudio(audio, format, first, std::min(audio.num_frames(), first + chunk_frames)));
      stream->Write(request);
    }
    stream->WritesDone();
    v1::EncodeResponse response;
    while (stream->Read(&response)) {
      if (response.has_tokens()) {
        for (const v1::TokenLevel& level : response.tokens().levels()) {
          codes->levels.push_back({static_cast<int>(level.num_codebooks()),
                                   static_cast<int64_t>(level.frames()),
                                   {level.values().begin(), level.values().end()}});
        }
        codes->scales.assign(response.tokens().scales().begin(), response.tokens().scales().end());
      } else {
        codes->num_samples = static_cast<int64_t>(response.summary().num_samples());
      }
    }
    return stream->Finish();
  }

  grpc::Status Decode(const std::string& model, const Codes& codes, v1::NoiseMode noise,
                      Audio* audio) {
    grpc::ClientContext context;
    auto stream = stub_->Decode(&context);
    v1::DecodeRequest request;
    request.mutable_config()->set_model_id(model);
    request.mutable_config()->set_format(v1::SAMPLE_FORMAT_F32LE);
    request.mutable_config()->set_noise(noise);
    request.mutable_config()->set_num_samples(codes.num_samples);
    stream->Write(request);
    for (const CodeLevel& in : codes.levels) {
      v1::TokenLevel* level = request.mutable_tokens()->add_levels();
      level->set_num_codebooks(in.num_codebooks);
      level->set_frames(in.frames);
      level->mutable_values()->Add(in.values.begin(), in.values.end());
    }
    stream->Write(request);
    stream->WritesDone();
    v1::DecodeResponse response;
    std::string pcm;
    while (stream->Read(&response)) {
      pcm += response.pcm();
      audio->sample_rate = response.sample_rate();
      audio->channels = response.channels();
    }
    grpc::Status status = stream->Finish();
    if (status.ok()) {
      absl::StatusOr<Audio> decoded =
          AudioFromPcm(pcm, v1::SAMPLE_FORMAT_F32LE, audio->sample_rate, audio->channels);
      if (!decoded.ok()) return ToGrpc(decoded.status());
      *audio = *std::move(decoded);
    }
    return status;
  }

  ModelRegistry registry_{"tests/fixtures"};
  CodecServiceImpl service_{registry_, StreamLimits{.max_stream_seconds = 30}};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::CodecService::Stub> stub_;
};

TEST_F(CodecServiceTest, StreamedEncodeEqualsOfflineForEveryChunkSize) {
  for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    absl::StatusOr<ModelLease> lease = registry_.Acquire(id);
    ASSERT_TRUE(lease.ok());
    absl::StatusOr<Codes> offline = lease->provider().Encode(fixture->input);
    ASSERT_TRUE(offline.ok());
    for (int64_t chunk : {int64_t{1}, int64_t{333}, int64_t{4096}, int64_t{1} << 30}) {
      Codes streamed;
      grpc::Status status = Encode(id, fixture->input, chunk, v1::SAMPLE_FORMAT_F32LE, &streamed);
      ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
      EXPECT_EQ(streamed.Flatten(), offline->Flatten()) << id << " chunk " << chunk;
      EXPECT_EQ(streamed.num_samples, fixture->input.num_frames());
    }
  }
}

TEST_F(CodecServiceTest, StreamedDecodeEqualsOffline) {
  for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    Audio audio;
    grpc::Status status = Decode(id, fixture->expected_codes, v1::NOISE_MODE_OFF, &audio);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    EXPECT_LE(testing::MaxAbsDiff(audio, fixture->expected_decode), 1e-4) << id;
  }
}

TEST_F(CodecServiceTest, S16PcmWithinQuantisation) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  Codes codes;
  ASSERT_TRUE(
      Encode("encodec24_tiny_bw6", fixture->input, 1000, v1::SAMPLE_FORMAT_S16LE, &codes).ok());
  EXPECT_EQ(codes.levels[0].frames, fixture->expected_codes.levels[0].frames);
}

TEST_F(CodecServiceTest, SixteenConcurrentStreamsAreAllCorrect) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  absl::StatusOr<ModelLease> lease = registry_.Acquire("encodec24_tiny_bw6");
  ASSERT_TRUE(lease.ok());
  const std::vector<uint32_t> expected = lease->provider().Encode(fixture->input)->Flatten();
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      Codes codes;
      correct += Encode("encodec24_tiny_bw6", fixture->input, 1000 + 97 * i,
                        v1::SAMPLE_FORMAT_F32LE, &codes)
                     .ok() &&
                 codes.Flatten() == expected;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(correct, 16);
}

TEST_F(CodecServiceTest, BadStreamsGetPreciseStatuses) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  Codes codes;
  EXPECT_EQ(Encode("nope", fixture->input, 1000, v1::SAMPLE_FORMAT_F32LE, &codes).error_code(),
            grpc::StatusCode::NOT_FOUND);
  Audio wrong_rate = fixture->input;
  wrong_rate.sample_rate = 16000;
  EXPECT_EQ(
      Encode("encodec24_tiny_bw6", wrong_rate, 1000, v1::SAMPLE_FORMAT_F32LE, &codes).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(
      Encode("encodec24_tiny_bw6", fixture->input, 1000, v1::SAMPLE_FORMAT_UNSPECIFIED, &codes)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  Audio too_long{24000, 1, std::vector<float>(24000 * 31, 0.0f)};
  EXPECT_EQ(
      Encode("encodec24_tiny_bw6", too_long, 24000, v1::SAMPLE_FORMAT_F32LE, &codes).error_code(),
      grpc::StatusCode::RESOURCE_EXHAUSTED);

  {  // Odd PCM byte count and a missing config.
    grpc::ClientContext context;
    auto stream = stub_->Encode(&context);
    v1::EncodeRequest request;
    request.set_pcm("abc");
    stream->Write(request);
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("config"), std::string::npos);
  }
  {
    grpc::ClientContext context;
    auto stream = stub_->Encode(&context);
    v1::EncodeRequest request;
    request.mutable_config()->set_model_id("encodec24_tiny_bw6");
    request.mutable_config()->set_sample_rate(24000);
    request.mutable_config()->set_channels(1);
    request.mutable_config()->set_format(v1::SAMPLE_FORMAT_S16LE);
    stream->Write(request);
    request.set_pcm("abc");
    stream->Write(request);
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("3 PCM bytes"), std::string::npos)
        << status.error_message();
  }

  Codes out_of_range = fixture->expected_codes;
  out_of_range.levels[0].values[0] = 5000;
  Audio audio;
  grpc::Status status = Decode("encodec24_tiny_bw6", out_of_range, v1::NOISE_MODE_OFF, &audio);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("code 5000"), std::string::npos);
}

}  // namespace
}  // namespace codec::server
