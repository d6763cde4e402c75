"""返岗通 runtime: configuration, transports, the outbound queue and the command line."""
