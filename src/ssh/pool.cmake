# The SSH connection pool: non-blocking libssh sessions on the Asio loop, channels, command runs.
portico_module(ssh
  SOURCES pool.cpp connection.cpp channel.cpp sftp_protocol.cpp sftp_session.cpp
  DEPS core config sshcred
  TESTS pool_test.cpp sftp_protocol_test.cpp sftp_session_test.cpp)
