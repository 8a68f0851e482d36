// A quiver::Client connected to a test's quiverd (nullptr, with a test
// failure recorded, if it cannot connect).
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "quiver/client.h"
#include "support/quiverd_process.h"

namespace quiver::testing {

inline std::unique_ptr<Client> ConnectTo(const QuiverdProcess& server) {
  ClientOptions options;
  options.port = server.port();
  auto client = Client::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

}  // namespace quiver::testing
