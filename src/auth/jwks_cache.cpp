#include "auth/jwks_cache.hpp"

#include "core/error.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace portico::auth {

namespace asio = boost::asio;
using core::ErrorKind;
using core::Failure;

// One fetch in progress. Whoever needs its outcome waits on it; the fetch completes it once.
struct JwksCache::Flight {
  std::mutex mutex;
  bool done = false;
  bool ok = false;
  struct Waiter {
    asio::any_io_executor executor;  // the waiting coroutine's, where it is resumed
    asio::any_completion_handler<void()> handler;
  };
  std::vector<Waiter> waiters;

  // Used when the fetch coroutine is destroyed unfinished (its io_context shut down): the
  // waiting coroutines are destroyed rather than left holding the flight forever.
  void abandon() {
    std::vector<Waiter> dropped;
    std::lock_guard lock(mutex);
    done = true;
    dropped.swap(waiters);
  }

  void complete(bool success) {
    std::vector<Waiter> ready;
    {
      std::lock_guard lock(mutex);
      done = true;
      ok = success;
      ready.swap(waiters);
    }
    for (auto& waiter : ready) resume(std::move(waiter));
  }

  static void resume(Waiter waiter) {  // on the waiter's own executor, never inline
    asio::post(waiter.executor, [handler = std::move(waiter.handler)]() mutable { std::move(handler)(); });
  }
};

namespace {

std::vector<std::string> kids(const KeySet& set) {
  std::vector<std::string> out;
  for (const auto& k : set.keys) out.push_back(k.kid);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

JwksCache::Options JwksCache::Options::from(const config::Auth& auth) {
  Options o;
  o.issuer = auth.issuer;
  o.jwks_url = auth.jwks_url;
  o.refresh_interval = auth.jwks_refresh;
  return o;
}

std::shared_ptr<JwksCache> JwksCache::create(asio::any_io_executor executor, Options options,
                                             std::shared_ptr<const net::HttpClient> http) {
  return std::shared_ptr<JwksCache>(new JwksCache(std::move(executor), std::move(options), std::move(http)));
}

JwksCache::JwksCache(asio::any_io_executor executor, Options options, std::shared_ptr<const net::HttpClient> http)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      http_(std::move(http)),
      keys_(std::make_shared<const KeySet>()),
      strand_(asio::make_strand(executor_)),
      timer_(strand_) {}

JwksCache::~JwksCache() = default;

std::shared_ptr<const KeySet> JwksCache::keys() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

std::shared_ptr<JwksCache::Flight> JwksCache::join_or_start(bool rate_limited) {
  std::shared_ptr<Flight> flight;
  {
    std::lock_guard lock(mutex_);
    if (flight_) return flight_;
    const auto now = std::chrono::steady_clock::now();
    if (rate_limited && last_fetch_ && now - *last_fetch_ < options_.unknown_key_interval) return nullptr;
    flight = flight_ = std::make_shared<Flight>();
    last_fetch_ = now;
  }
  // Spawned outside the lock: co_spawn may start the coroutine inline.
  asio::co_spawn(executor_, fetch(shared_from_this(), flight), asio::detached);
  return flight;
}

asio::awaitable<bool> JwksCache::wait(std::shared_ptr<Flight> flight) {
  auto executor = co_await asio::this_coro::executor;
  // Named, not a temporary inside the co_await: g++ 12 destroys such temporaries twice.
  auto initiation = [flight, executor](auto handler) {
    Flight::Waiter waiter{executor, std::move(handler)};
    std::unique_lock lock(flight->mutex);
    if (!flight->done) {
      flight->waiters.push_back(std::move(waiter));
      return;
    }
    lock.unlock();
    Flight::resume(std::move(waiter));
  };
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(std::move(initiation), asio::use_awaitable);
  std::lock_guard lock(flight->mutex);
  co_return flight->ok;
}

asio::awaitable<bool> JwksCache::refresh() {
  co_return co_await wait(join_or_start(false));
}

asio::awaitable<std::shared_ptr<const KeySet>> JwksCache::refresh_for_unknown_key() {
  if (auto flight = join_or_start(true)) co_await wait(std::move(flight));
  co_return keys();
}

asio::awaitable<net::HttpResponse> JwksCache::get(const std::string& url) const {
  net::HttpRequest req;
  req.url = url;
  req.headers = {{"Accept", "application/json"}};
  req.timeout = options_.fetch_timeout;
  req.max_response_bytes = options_.max_document_bytes;
  auto res = co_await http_->request(std::move(req));
  if (res.status != 200)
    throw Failure(ErrorKind::backend_unreachable, fmt::format("the identity provider answered HTTP {}", res.status));
  co_return res;
}

asio::awaitable<std::string> JwksCache::jwks_location(std::string& source) const {
  if (!options_.jwks_url.empty()) co_return options_.jwks_url;
  std::string issuer = options_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  source = issuer + "/.well-known/openid-configuration";
  auto res = co_await get(source);
  boost::system::error_code ec;
  auto doc = boost::json::parse(res.body, ec);
  const boost::json::object* object = !ec && doc.is_object() ? &doc.get_object() : nullptr;
  if (!object) throw Failure(ErrorKind::internal, "the OIDC discovery document is not a JSON object");
  // OpenID Connect Discovery §4.3: the document must be the issuer's own.
  const auto* issuer_value = object->if_contains("issuer");
  if (!issuer_value || !issuer_value->is_string() || issuer_value->get_string() != options_.issuer)
    throw Failure(ErrorKind::internal, "the OIDC discovery document names another issuer");
  const auto* uri = object->if_contains("jwks_uri");
  if (!uri || !uri->is_string() || uri->get_string().empty())
    throw Failure(ErrorKind::internal, "the OIDC discovery document has no jwks_uri");
  co_return std::string(uri->get_string());
}

asio::awaitable<void> JwksCache::fetch(std::shared_ptr<JwksCache> self, std::shared_ptr<Flight> flight) {
  struct Guard {
    std::shared_ptr<Flight> flight;
    ~Guard() {
      if (flight) flight->abandon();
    }
  } guard{flight};
  std::string source = self->options_.jwks_url;
  std::shared_ptr<const KeySet> fresh;
  std::string error;
  try {
    const std::string url = co_await self->jwks_location(source);
    source = url;
    auto res = co_await self->get(url);
    auto set = parse_jwks(std::string_view(res.body));
    if (set.keys.empty()) {
      std::string why = set.skip_reasons.empty() ? "no keys" : fmt::format("{}", fmt::join(set.skip_reasons, "; "));
      throw Failure(ErrorKind::internal, "the identity provider's JWKS has no usable signature key", why);
    }
    fresh = std::make_shared<const KeySet>(std::move(set));
  } catch (const Failure& f) {
    error = f.detail().empty() ? f.what() : fmt::format("{} ({})", f.what(), f.detail());
  } catch (const std::exception& e) {
    error = e.what();
  }

  std::shared_ptr<const KeySet> previous;
  std::size_t cached = 0;
  {
    std::lock_guard lock(self->mutex_);
    previous = self->keys_;
    if (fresh) self->keys_ = fresh;
    cached = self->keys_->keys.size();
    self->flight_.reset();
  }
  if (!fresh) {
    spdlog::warn("cannot refresh the OIDC signing keys from {}: {}; keeping {} cached key(s)", source, error, cached);
  } else if (kids(*fresh) != kids(*previous)) {
    spdlog::info("OIDC signing keys from {}: kid(s) [{}]", source, fmt::join(kids(*fresh), ", "));
    for (const auto& reason : fresh->skip_reasons) spdlog::info("OIDC signing keys: skipped {}", reason);
  } else {
    spdlog::debug("OIDC signing keys from {} unchanged", source);
  }
  std::exchange(guard.flight, nullptr)->complete(fresh != nullptr);
}

void JwksCache::start() {
  if (started_.exchange(true)) return;
  asio::co_spawn(strand_, refresh_loop(shared_from_this()), asio::detached);
}

void JwksCache::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

asio::awaitable<void> JwksCache::refresh_loop(std::shared_ptr<JwksCache> self) {
  while (!self->stopped_) {
    const bool ok = co_await self->refresh();
    if (self->stopped_) break;
    self->timer_.expires_after(ok ? self->options_.refresh_interval
                                  : std::min(self->options_.retry_interval, self->options_.refresh_interval));
    boost::system::error_code ec;  // operation_aborted on stop()
    co_await self->timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace portico::auth
