// codec.v1.CodecService end to end: a real server on loopback, real gRPC
// clients (the C++ client library and raw stubs), real audio; streamed
// results equal the offline backend's.

#include "server/rpc/codec_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "client/codec_client.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"
#include "tests/testing/fixture.h"
#include "tests/testing/loopback_server.h"

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
    server_ = testing::StartLoopbackServer({&service_});
    ASSERT_NE(server_, nullptr);
    stub_ = v1::CodecService::NewStub(server_->channel());
    client_ = std::make_unique<client::CodecClient>(server_->channel());
  }
  void TearDown() override { server_.reset(); }

  // Streams `audio` as raw PCM of `format` in chunks (the client always
  // sends f32le; this covers s16le and malformed streams too) and returns
  // the codes it got back.
  absl::StatusOr<Codes> EncodeRaw(const std::string& model, const Audio& audio,
                                  v1::SampleFormat format) {
    grpc::ClientContext context;
    auto stream = stub_->Encode(&context);
    v1::EncodeRequest request;
    request.mutable_config()->set_model_id(model);
    request.mutable_config()->set_sample_rate(audio.sample_rate);
    request.mutable_config()->set_channels(audio.channels);
    request.mutable_config()->set_format(format);
    stream->Write(request);
    for (int64_t first = 0; first < audio.num_frames(); first += 24000) {
      request.set_pcm(
          v1::PcmFromAudio(audio, format, first, std::min(audio.num_frames(), first + 24000)));
      stream->Write(request);
    }
    stream->WritesDone();
    v1::EncodeResponse response;
    std::vector<Codes> parts;
    while (stream->Read(&response)) {
      if (!response.has_tokens()) continue;
      absl::StatusOr<Codes> part = v1::CodesFromTokenChunk(response.tokens());
      if (!part.ok()) return part.status();
      parts.push_back(*std::move(part));
    }
    const grpc::Status status = stream->Finish();
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return ConcatCodes(parts);
  }

  // Two forward passes at a time: concurrent streams take turns.
  ModelRegistry registry_{testing::FixtureRepository(), CreateBackend, 0,
                          ServingOptions{.devices = DevicePool::Cpu(2)}};
  CodecServiceImpl service_{registry_, StreamLimits{.max_stream_seconds = 30}};
  std::unique_ptr<testing::LoopbackServer> server_;
  std::unique_ptr<v1::CodecService::Stub> stub_;
  std::unique_ptr<client::CodecClient> client_;
};

TEST_F(CodecServiceTest, StreamedEncodeEqualsOfflineForEveryChunkSize) {
  for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    absl::StatusOr<ModelLease> lease = registry_.Acquire(id);
    ASSERT_TRUE(lease.ok());
    absl::StatusOr<Codes> offline = lease->provider().Encode(fixture->input);
    ASSERT_TRUE(offline.ok());
    for (int64_t chunk : {int64_t{37}, int64_t{333}, int64_t{4096}, int64_t{1} << 30}) {
      absl::StatusOr<Codes> streamed = client_->Encode(id, fixture->input, {}, chunk);
      ASSERT_TRUE(streamed.ok()) << id << ": " << streamed.status();
      // Equal up to float near-ties (the project's bar: 99.9 % identical).
      const testing::CodesAgreement agreement = testing::CompareCodes(*streamed, *offline);
      EXPECT_TRUE(agreement.same_shape) << id << " chunk " << chunk;
      EXPECT_GE(agreement.identical_fraction, 0.999) << id << " chunk " << chunk;
      EXPECT_EQ(streamed->num_samples, fixture->input.num_frames());
    }
  }
}

TEST_F(CodecServiceTest, StreamedDecodeEqualsOffline) {
  for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    DecodeOptions off;
    off.noise = NoiseMode::kOff;
    for (int64_t chunk : {int64_t{1}, int64_t{7}, int64_t{150}, int64_t{1} << 30}) {
      absl::StatusOr<Audio> audio = client_->Decode(id, fixture->expected_codes, off, chunk);
      ASSERT_TRUE(audio.ok()) << id << ": " << audio.status();
      EXPECT_LE(testing::MaxAbsDiff(*audio, fixture->expected_decode), 1e-4)
          << id << " chunk " << chunk;
    }
  }
}

// 16-bit PCM is the float input within quantisation (1/32768), which moves
// the latent too little to change more than a rare near-tie code.
// One message of 25 s: the server cuts it into several model calls, and the
// result still equals the offline one.
TEST_F(CodecServiceTest, MessagesLongerThanOneModelCallEqualOffline) {
  for (const char* id : {"encodec24_tiny_bw6", "snac24_tiny", "dac16_tiny"}) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    Audio input = fixture->input;
    while (input.num_frames() < 25 * input.sample_rate) {
      input.samples.insert(input.samples.end(), fixture->input.samples.begin(),
                           fixture->input.samples.end());
    }
    absl::StatusOr<ModelLease> lease = registry_.Acquire(id);
    ASSERT_TRUE(lease.ok());
    DecodeOptions off;
    off.noise = NoiseMode::kOff;
    const absl::StatusOr<Codes> offline = lease->provider().Encode(input);
    ASSERT_TRUE(offline.ok()) << offline.status();
    const absl::StatusOr<Audio> offline_audio = lease->provider().Decode(*offline, off);
    ASSERT_TRUE(offline_audio.ok()) << offline_audio.status();

    const absl::StatusOr<Codes> streamed = client_->Encode(id, input, {}, int64_t{1} << 30);
    ASSERT_TRUE(streamed.ok()) << id << ": " << streamed.status();
    const testing::CodesAgreement agreement = testing::CompareCodes(*streamed, *offline);
    EXPECT_TRUE(agreement.same_shape) << id;
    EXPECT_GE(agreement.identical_fraction, 0.999) << id;
    const absl::StatusOr<Audio> audio = client_->Decode(id, *offline, off, int64_t{1} << 30);
    ASSERT_TRUE(audio.ok()) << id << ": " << audio.status();
    EXPECT_LE(testing::MaxAbsDiff(*audio, *offline_audio), 1e-4) << id;
  }
}

TEST_F(CodecServiceTest, S16PcmWithinQuantisation) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  const absl::StatusOr<Codes> f32 =
      EncodeRaw("encodec24_tiny_bw6", fixture->input, v1::SAMPLE_FORMAT_F32LE);
  const absl::StatusOr<Codes> s16 =
      EncodeRaw("encodec24_tiny_bw6", fixture->input, v1::SAMPLE_FORMAT_S16LE);
  ASSERT_TRUE(f32.ok()) << f32.status();
  ASSERT_TRUE(s16.ok()) << s16.status();
  const testing::CodesAgreement agreement = testing::CompareCodes(*s16, *f32);
  EXPECT_TRUE(agreement.same_shape);
  EXPECT_GE(agreement.identical_fraction, 0.95);
}

TEST_F(CodecServiceTest, SixteenConcurrentStreamsAreAllCorrect) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  absl::StatusOr<ModelLease> lease = registry_.Acquire("encodec24_tiny_bw6");
  ASSERT_TRUE(lease.ok());
  const absl::StatusOr<Codes> expected = lease->provider().Encode(fixture->input);
  ASSERT_TRUE(expected.ok());
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      absl::StatusOr<Codes> codes =
          client_->Encode("encodec24_tiny_bw6", fixture->input, {}, 1000 + 97 * i);
      if (!codes.ok()) return;
      const testing::CodesAgreement agreement = testing::CompareCodes(*codes, *expected);
      correct += agreement.same_shape && agreement.identical_fraction >= 0.999;
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(correct, 16);
}

TEST_F(CodecServiceTest, BadStreamsGetPreciseStatuses) {
  absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture("encodec24_tiny_bw6");
  ASSERT_TRUE(fixture.ok());
  EXPECT_EQ(client_->Encode("nope", fixture->input, {}).status().code(),
            absl::StatusCode::kNotFound);
  Audio wrong_rate = fixture->input;
  wrong_rate.sample_rate = 16000;
  EXPECT_TRUE(testing::IsInvalidArgument(
      client_->Encode("encodec24_tiny_bw6", wrong_rate, {}).status(), "16000 Hz"));
  EXPECT_EQ(EncodeRaw("encodec24_tiny_bw6", fixture->input, v1::SAMPLE_FORMAT_UNSPECIFIED)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  Audio too_long{24000, 1, std::vector<float>(24000 * 31, 0.0f)};
  EXPECT_EQ(client_->Encode("encodec24_tiny_bw6", too_long, {}).status().code(),
            absl::StatusCode::kResourceExhausted);

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

  // A decode config asking for more than the limit is refused before any codes.
  Codes too_many_samples = fixture->expected_codes;
  too_many_samples.num_samples = 24000 * 31;
  EXPECT_EQ(client_->Decode("encodec24_tiny_bw6", too_many_samples, {}).status().code(),
            absl::StatusCode::kResourceExhausted);

  Codes out_of_range = fixture->expected_codes;
  out_of_range.levels[0].values[0] = 5000;
  EXPECT_TRUE(testing::IsInvalidArgument(
      client_->Decode("encodec24_tiny_bw6", out_of_range, {}).status(), "code 5000"));
}

}  // namespace
}  // namespace codec::server
