// Streaming over the wire: a real server on loopback, real gRPC streams.
// A client that paces its input receives the first output before it has
// sent half of it, and the whole equals the offline result; every hostile
// message gets INVALID_ARGUMENT and the server goes on serving.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "proto/pcm_format.h"
#include "proto/token_format.h"
#include "server/rpc/codec_service.h"
#include "tests/testing/fixture.h"
#include "tests/testing/loopback_server.h"

namespace codec::server {
namespace {

constexpr const char* kModels[] = {"encodec24_tiny_bw6", "encodec48_tiny_stereo_bw6",
                                   "snac24_tiny", "dac16_tiny"};

std::string FamilyOf(const std::string& id) {
  return id.rfind("snac", 0) == 0 ? "snac" : id.rfind("dac", 0) == 0 ? "dac" : "encodec";
}

class StreamingServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { testing::UseReferenceThreadCount(); }

  void SetUp() override {
    for (const char* id : kModels) {
      ASSERT_TRUE(registry_.Load({.id = id, .model = FamilyOf(id), .weights = id}).ok()) << id;
    }
    server_ = testing::StartLoopbackServer({&service_});
    ASSERT_NE(server_, nullptr);
    stub_ = v1::CodecService::NewStub(server_->channel());
  }
  void TearDown() override { server_.reset(); }

  // Sends `messages` one by one, `pace` apart, while a reader collects the
  // responses; records how many had been sent when the first response came.
  template <typename Request, typename Response>
  grpc::Status PacedCall(
      std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream,
      const std::vector<Request>& messages, std::chrono::milliseconds pace,
      std::vector<Response>& responses, int& sent_at_first_response) {
    std::atomic<int> sent{0};
    sent_at_first_response = -1;
    std::thread reader([&] {
      Response response;
      while (stream->Read(&response)) {
        if (responses.empty()) sent_at_first_response = sent.load();
        responses.push_back(response);
      }
    });
    for (const Request& message : messages) {
      if (!stream->Write(message)) break;
      ++sent;
      std::this_thread::sleep_for(pace);
    }
    stream->WritesDone();
    reader.join();
    return stream->Finish();
  }

  ModelRegistry registry_{testing::FixtureRepository(), CreateBackend, 0,
                          ServingOptions{.devices = DevicePool::Cpu(2)}};
  CodecServiceImpl service_{registry_, StreamLimits{}};
  std::unique_ptr<testing::LoopbackServer> server_;
  std::unique_ptr<v1::CodecService::Stub> stub_;
};

TEST_F(StreamingServiceTest, PacedEncodeGetsCodesBeforeHalfIsSentAndEqualsOffline) {
  for (const char* id : kModels) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    const Audio& audio = fixture->input;
    absl::StatusOr<ModelInfo> info = registry_.Get(id);
    ASSERT_TRUE(info.ok()) << info.status();
    const CodecDescription& desc = info->description;
    std::vector<v1::EncodeRequest> messages(1);
    v1::EncodeConfig* config = messages[0].mutable_config();
    config->set_model_id(id);
    config->set_sample_rate(audio.sample_rate);
    config->set_channels(audio.channels);
    config->set_format(v1::SAMPLE_FORMAT_F32LE);
    if (fixture->meta.contains("bandwidth")) {  // The reference's quantisers.
      config->set_bandwidth_kbps(fixture->meta.at("bandwidth").get<double>());
    }
    // Chunks of 1/20 of the input, but at least what a frame's codes need.
    const int64_t chunk =
        std::max<int64_t>(audio.num_frames() / 20, desc.hop_length);
    for (int64_t first = 0; first < audio.num_frames(); first += chunk) {
      v1::EncodeRequest request;
      request.set_pcm(v1::PcmFromAudio(audio, v1::SAMPLE_FORMAT_F32LE, first,
                                       std::min(audio.num_frames(), first + chunk)));
      messages.push_back(request);
    }
    grpc::ClientContext context;
    std::vector<v1::EncodeResponse> responses;
    int sent_at_first = 0;
    const grpc::Status status = PacedCall(stub_->Encode(&context), messages,
                                          std::chrono::milliseconds(30), responses, sent_at_first);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    std::vector<Codes> parts;
    int64_t next_frame = 0;
    for (const v1::EncodeResponse& response : responses) {
      if (!response.has_tokens()) continue;
      EXPECT_EQ(response.tokens().start_frame(), static_cast<uint64_t>(next_frame)) << id;
      absl::StatusOr<Codes> part = v1::CodesFromTokenChunk(response.tokens());
      ASSERT_TRUE(part.ok()) << part.status();
      next_frame += part->levels.back().frames;
      parts.push_back(*std::move(part));
    }
    Codes streamed = ConcatCodes(parts);
    ASSERT_TRUE(responses.back().has_summary());
    streamed.num_samples = static_cast<int64_t>(responses.back().summary().num_samples());
    const testing::CodesAgreement agreement =
        testing::CompareCodes(streamed, fixture->expected_codes);
    EXPECT_TRUE(agreement.same_shape) << id;
    EXPECT_GE(agreement.identical_fraction, 0.999) << id;
    // 48 kHz models wait for whole 1 s segments; the fixture is 1.1 s long.
    if (desc.segment_length == 0) {
      EXPECT_LT(sent_at_first, static_cast<int>(messages.size()) / 2)
          << id << ": first codes came after " << sent_at_first << " of " << messages.size();
    }
    std::cout << id << ": first codes after " << sent_at_first << " of " << messages.size()
              << " messages; " << 100 * agreement.identical_fraction << "% identical\n";
  }
}

TEST_F(StreamingServiceTest, PacedDecodeGetsAudioBeforeTwoThirdsAreSentAndEqualsOffline) {
  for (const char* id : kModels) {
    absl::StatusOr<testing::Fixture> fixture = testing::LoadFixture(id);
    ASSERT_TRUE(fixture.ok());
    const Codes& codes = fixture->expected_codes;
    absl::StatusOr<ModelInfo> info = registry_.Get(id);
    ASSERT_TRUE(info.ok()) << info.status();
    const CodecDescription& desc = info->description;
    std::vector<v1::DecodeRequest> messages(1);
    messages[0].mutable_config()->set_model_id(id);
    messages[0].mutable_config()->set_format(v1::SAMPLE_FORMAT_F32LE);
    messages[0].mutable_config()->set_noise(v1::NOISE_MODE_OFF);
    messages[0].mutable_config()->set_num_samples(static_cast<uint64_t>(codes.num_samples));
    const int64_t group = desc.level_strides.front();
    for (int64_t first = 0; first < codes.levels.back().frames; first += group) {
      v1::DecodeRequest request;
      *request.mutable_tokens() = v1::TokenChunkFromCodes(SliceCodes(codes, first, first + group));
      messages.push_back(request);
    }
    grpc::ClientContext context;
    std::vector<v1::DecodeResponse> responses;
    int sent_at_first = 0;
    const grpc::Status status = PacedCall(stub_->Decode(&context), messages,
                                          std::chrono::milliseconds(5), responses, sent_at_first);
    ASSERT_TRUE(status.ok()) << id << ": " << status.error_message();
    std::string pcm;
    for (const v1::DecodeResponse& response : responses) {
      EXPECT_EQ(response.start_sample() * desc.channels * 4, pcm.size()) << id;
      pcm += response.pcm();
    }
    absl::StatusOr<Audio> audio =
        v1::AudioFromPcm(pcm, v1::SAMPLE_FORMAT_F32LE, desc.sample_rate, desc.channels);
    ASSERT_TRUE(audio.ok());
    EXPECT_LE(testing::MaxAbsDiff(*audio, fixture->expected_decode), 1e-4) << id;
    // Messages go 5 ms apart, faster than a decode step on 2 busy cores:
    // the first audio must still come while two thirds are being sent.
    if (desc.segment_length == 0) {
      EXPECT_LT(sent_at_first, 2 * static_cast<int>(messages.size()) / 3) << id;
    }
    std::cout << id << ": first audio after " << sent_at_first << " of " << messages.size()
              << " messages\n";
  }
}

// Each hostile message after a valid config: INVALID_ARGUMENT, and the next
// stream is served as usual.
TEST_F(StreamingServiceTest, HostileTokenChunksAreRefusedAndTheServerGoesOn) {
  auto decode = [&](const std::string& model, const v1::TokenChunk& chunk,
                    uint64_t num_samples) {
    grpc::ClientContext context;
    auto stream = stub_->Decode(&context);
    v1::DecodeRequest request;
    request.mutable_config()->set_model_id(model);
    request.mutable_config()->set_format(v1::SAMPLE_FORMAT_F32LE);
    request.mutable_config()->set_noise(v1::NOISE_MODE_OFF);
    request.mutable_config()->set_num_samples(num_samples);
    stream->Write(request);
    *request.mutable_tokens() = chunk;
    stream->Write(request);
    stream->WritesDone();
    v1::DecodeResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  absl::StatusOr<testing::Fixture> snac = testing::LoadFixture("snac24_tiny");
  ASSERT_TRUE(snac.ok());
  const v1::TokenChunk good = v1::TokenChunkFromCodes(SliceCodes(snac->expected_codes, 0, 4));
  std::vector<std::pair<std::string, v1::TokenChunk>> hostile;
  hostile.push_back({"no levels", v1::TokenChunk()});
  v1::TokenChunk chunk = good;
  chunk.mutable_levels()->RemoveLast();
  hostile.push_back({"a level missing", chunk});
  chunk = good;
  chunk.mutable_levels(0)->set_num_codebooks(2);
  chunk.mutable_levels(0)->add_values(1);
  chunk.mutable_levels(0)->set_frames(1);
  hostile.push_back({"more codebooks than the model", chunk});
  chunk = good;
  chunk.mutable_levels(2)->set_values(0, 1u << 31);
  hostile.push_back({"code out of range", chunk});
  chunk = good;
  chunk.mutable_levels(1)->set_frames(uint64_t{1} << 62);
  hostile.push_back({"frames that overflow", chunk});
  chunk = good;
  chunk.mutable_levels(2)->add_values(0);
  chunk.mutable_levels(2)->set_frames(5);
  hostile.push_back({"levels of unequal spans", chunk});
  chunk = good;
  chunk.add_scales(1.0f);
  hostile.push_back({"scales for a model without", chunk});
  chunk = good;
  chunk.mutable_levels(0)->set_num_codebooks(0);
  hostile.push_back({"zero codebooks", chunk});
  for (const auto& [what, message] : hostile) {
    const grpc::Status status = decode("snac24_tiny", message, 0);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << what << ": " << status.error_message();
    EXPECT_TRUE(decode("snac24_tiny", good, 0).ok()) << "after " << what;
  }
  // A segmented model told of 2^62 samples: refused at the end, quickly.
  absl::StatusOr<testing::Fixture> stereo = testing::LoadFixture("encodec48_tiny_stereo_bw6");
  ASSERT_TRUE(stereo.ok());
  const grpc::Status huge = decode("encodec48_tiny_stereo_bw6",
                                   v1::TokenChunkFromCodes(SliceCodes(stereo->expected_codes, 0, 10)),
                                   uint64_t{1} << 62);
  EXPECT_EQ(huge.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << huge.error_message();
}

}  // namespace
}  // namespace codec::server
