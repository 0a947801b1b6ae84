# The SSH connection pool: non-blocking libssh sessions on the Asio loop, channels, command runs.
portico_module(ssh
  SOURCES pool.cpp connection.cpp channel.cpp
  DEPS core config sshcred
  TESTS pool_test.cpp)
