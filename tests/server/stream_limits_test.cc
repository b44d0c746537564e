// The limits every stream shares, on a real server on loopback with raw
// gRPC streams: the memory budget and the idle timeout. The idle test runs
// in time (//tests/server:stream_idle_test, tagged paced); the rest do not.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "proto/pcm_format.h"
#include "server/rpc/codec_service.h"
#include "tests/testing/await.h"
#include "tests/testing/fixture.h"
#include "tests/testing/loopback_server.h"

namespace codec::server {
namespace {

constexpr char kModel[] = "encodec24_tiny_bw6";
constexpr int64_t kStateBytes = 1 << 20;

class StreamLimitsTest : public ::testing::Test {
 protected:
  // No idle timeout unless a test asks for one: no other verdict may depend
  // on how fast the machine runs.
  explicit StreamLimitsTest(absl::Duration idle_timeout = absl::ZeroDuration())
      : service_{registry_,
                 // Room for two streams' state and a little more.
                 StreamLimits{.max_stream_memory_bytes = 2 * kStateBytes + (1 << 19),
                              .stream_state_bytes = kStateBytes,
                              .idle_timeout = idle_timeout}} {}

  void SetUp() override {
    ASSERT_TRUE(registry_.Load({.id = kModel, .model = "encodec", .weights = kModel}).ok());
    server_ = testing::StartLoopbackServer({&service_});
    ASSERT_NE(server_, nullptr);
    stub_ = v1::CodecService::NewStub(server_->channel());
  }
  void TearDown() override { server_.reset(); }

  // An encode stream that has sent its config.
  struct OpenStream {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReaderWriter<v1::EncodeRequest, v1::EncodeResponse>> stream;
  };
  std::unique_ptr<OpenStream> Open() {
    auto open = std::make_unique<OpenStream>();
    open->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    open->stream = stub_->Encode(&open->context);
    v1::EncodeRequest request;
    v1::EncodeConfig* config = request.mutable_config();
    config->set_model_id(kModel);
    config->set_sample_rate(24000);
    config->set_channels(1);
    config->set_format(v1::SAMPLE_FORMAT_F32LE);
    open->stream->Write(request);
    return open;
  }
  // Sends `seconds` of silence in one message.
  static void Send(OpenStream& open, double seconds) {
    v1::EncodeRequest request;
    request.set_pcm(std::string(static_cast<size_t>(seconds * 24000) * sizeof(float), '\0'));
    open.stream->Write(request);
  }
  static grpc::Status Close(OpenStream& open) {
    open.stream->WritesDone();
    v1::EncodeResponse response;
    while (open.stream->Read(&response)) {
    }
    return open.stream->Finish();
  }
  // Waits until the server holds `bytes` of its budget for streams.
  void AwaitReserved(int64_t bytes) {
    EXPECT_TRUE(testing::Eventually([&] { return service_.reserved_stream_memory() == bytes; }))
        << service_.reserved_stream_memory() << " bytes reserved, waiting for " << bytes;
  }

  ModelRegistry registry_{testing::FixtureRepository()};
  CodecServiceImpl service_;
  std::unique_ptr<testing::LoopbackServer> server_;
  std::unique_ptr<v1::CodecService::Stub> stub_;
};

TEST_F(StreamLimitsTest, StreamsBeyondTheMemoryBudgetAreRefusedAndTheAdmittedGoOn) {
  std::unique_ptr<OpenStream> first = Open();
  std::unique_ptr<OpenStream> second = Open();
  AwaitReserved(2 * kStateBytes);
  // No room for a third stream's state: refused at once.
  std::unique_ptr<OpenStream> third = Open();
  const grpc::Status refused = Close(*third);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  // A message larger than what is left is refused too; its stream ends.
  Send(*second, 1.0);  // 96 KB in hand, 192 KB with its samples: fits.
  Send(*first, 4.0);   // 768 KB with its samples: does not.
  EXPECT_EQ(Close(*first).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(Close(*second).ok());
  AwaitReserved(0);
  // Everything given back: a new stream is served.
  std::unique_ptr<OpenStream> later = Open();
  Send(*later, 1.0);
  EXPECT_TRUE(Close(*later).ok());
}

// Paced (real time decides it): the quiet stream's end is the event the
// test waits for, while the lively one sends every 50 ms, a tenth of the
// idle timeout.
class StreamIdleTest : public StreamLimitsTest {
 protected:
  StreamIdleTest() : StreamLimitsTest(absl::Milliseconds(500)) {}
};

TEST_F(StreamIdleTest, AStreamWhoseClientGoesQuietIsEndedAndALivelyOneIsNot) {
  std::unique_ptr<OpenStream> lively = Open();
  std::unique_ptr<OpenStream> quiet = Open();
  Send(*quiet, 0.1);
  absl::Notification quiet_ended;
  testing::JoiningThreads reader;
  reader.Start([&] {
    // The server cancels the call (a blocked read can only end so).
    v1::EncodeResponse response;
    while (quiet->stream->Read(&response)) {
    }
    quiet_ended.Notify();
  });
  const absl::Time deadline = absl::Now() + testing::EventDeadline();
  while (!quiet_ended.HasBeenNotified() && absl::Now() < deadline) {
    Send(*lively, 0.05);
    quiet_ended.WaitForNotificationWithTimeout(absl::Milliseconds(50));
  }
  reader.JoinAll();
  const grpc::Status ended = quiet->stream->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::CANCELLED) << ended.error_message();
  EXPECT_TRUE(Close(*lively).ok());
  AwaitReserved(0);
}

}  // namespace
}  // namespace codec::server
