#pragma once
// The SSH connection pool of one cluster: runs commands as users over pooled, authenticated
// connections, each multiplexing several channels.
//
// - Connections are per user (they authenticate as that user), at most
//   max_connections_per_user of them, each carrying at most max_sessions_per_connection channels
//   (sshd's MaxSessions). A request takes a free channel slot, packing connections in the order
//   they were opened so that spare ones go idle and close after idle_timeout; when every slot is
//   taken and no more connections may be opened, requests wait in FIFO order, each until its
//   deadline.
// - A connection that dies (EOF, socket error, unanswered keepalives, sshd restarted) leaves the
//   pool at once. A request that finds its connection dead while opening the channel is retried
//   once on a fresh connection, so the next request after an sshd restart does not fail.
// - sshd frees a session only once it has processed our CLOSE, so with as many channels as its
//   MaxSessions a just-freed slot may still be taken on its side: a refused channel open is
//   tried again at once, then after pauses from 10 ms doubling up to 500 ms, until the request's
//   deadline (stats().refused counts them).
// - New connections ask the CredentialProvider for the user's credential, so a renewed
//   certificate is used from then on; connections already authenticated keep going.
// - Each connection may carry one SFTP session (sftp()), opened on first use on a channel slot
//   of its own and kept with the connection: a connection counts as idle once nothing but its
//   session's slot is taken and the session has had no request for idle_timeout. A server that
//   refuses the sftp subsystem is asked once per connection.
//
// Thread-safety: every public member may be called from any thread, concurrently, and run() and
// exec() may be awaited from any executor. Pool state lives on the pool's strand; each
// connection's libssh session is used only on that connection's strand. Calls in flight keep
// the pool's state alive, so destroying the Pool (which shuts it down) while they run is safe;
// the credential provider must outlive the work on the io_context.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/command.hpp"
#include "ssh/channel.hpp"
#include "ssh/credentials.hpp"

namespace portico::ssh {

struct PoolStats {
  std::size_t connections = 0;       // authenticated connections open now
  std::size_t connecting = 0;        // connections being opened now
  std::size_t channels_in_use = 0;   // channel slots taken now
  std::size_t waiters = 0;           // requests waiting for a slot now
  std::uint64_t connections_opened = 0;  // since start
  std::uint64_t connections_failed = 0;  // attempts that could not connect or authenticate
  std::uint64_t retries = 0;             // channel opens retried because their connection had died
  std::uint64_t refused = 0;             // channel opens the server refused (then tried again)
  std::size_t sftp_sessions = 0;         // SFTP sessions open now
  std::uint64_t sftp_refused = 0;        // connections whose server refused the sftp subsystem
};

class SftpSession;

// What Pool::sftp() found.
struct SftpResult {
  std::shared_ptr<SftpSession> session;  // null: none now (then run commands)
  bool no_subsystem = false;             // null because the server has no sftp subsystem
};

class Pool {
 public:
  // Throws std::invalid_argument when cluster.ssh.host_public_key is not an OpenSSH public key.
  Pool(boost::asio::any_io_executor executor, const config::Cluster& cluster, CredentialProvider& credentials);
  ~Pool();  // shutdown()
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs argv as `user`: the remote line is `timeout --kill-after=5 <s> <quoted argv>`, with the
  // command's timeout (else the cluster's command_timeout), so argv[0] must be a program (a shell
  // builtin needs {"sh", "-c", ...}); stdin_data is written, then EOF;
  // stdout and stderr are each kept up to max_output (else max_output_bytes) and the rest read
  // and dropped. A local deadline 8 s after the remote timeout closes the channel if the server
  // has not finished by then. Remote exit 124, a signal after the timeout, or the local
  // deadline give timed_out.
  // Throws core::Failure: backend_unreachable (cannot connect or authenticate, host key mismatch,
  // connection lost while the command ran), timeout (no channel in time), forbidden (no
  // credential for the user, or not a valid user name), bad_request (empty argv, NUL byte),
  // unavailable (shut down). sshd refusing our credential is backend_unreachable, not forbidden:
  // Portico signs in with its own CA on the user's behalf, so a refusal is a gateway-to-cluster
  // trust or account problem the client cannot fix, and as 403 it would hide a misconfigured
  // cluster behind what looks like a permission answer. Portico's own access decisions (the
  // credential provider's included) stay forbidden.
  boost::asio::awaitable<core::CommandResult> run(std::string user, core::Command command);

  // Starts command_line (run by the user's login shell, as sshd does) and returns its channel for
  // streaming; nothing is added to the line. `deadline` bounds the wait for a channel slot,
  // connecting and starting the command, not the command itself. Throws as run().
  boost::asio::awaitable<Channel> exec(std::string user, std::string command_line,
                                       std::chrono::steady_clock::time_point deadline);

  // The SFTP session of one of the user's connections (sftp_session.hpp), started on first use;
  // `deadline` bounds the wait for a connection and a channel slot and the session's start.
  // A session that cannot be started (switched off by ssh.sftp, the server refused the
  // subsystem, or did not speak SFTP in time) is not an error: the result holds none. Throws as
  // run() does when no connection can be had at all.
  boost::asio::awaitable<SftpResult> sftp(std::string user, std::chrono::steady_clock::time_point deadline);

  PoolStats stats() const;
  std::chrono::milliseconds command_timeout() const;  // the cluster's ssh.command_timeout

  // Fails waiting requests (unavailable), closes every connection (running commands end with
  // backend_unreachable) and refuses new requests. Returns at once; the work is done on the
  // pool's strand. Idempotent.
  void shutdown();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace portico::ssh
