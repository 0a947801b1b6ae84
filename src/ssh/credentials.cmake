# SSH credentials: the OpenSSH CA key reader, the certificate encoder and the two providers.
portico_module(sshcred
  SOURCES credentials.cpp certificate.cpp openssh_key.cpp
  DEPS core config
  TESTS openssh_key_test.cpp certificate_test.cpp credentials_test.cpp)
