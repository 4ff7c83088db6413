/* CZeroMQ: the libzmq 4.3 API for Swift (Debian libzmq3-dev), plus eventfd for waking a zmq_poll loop. */
#ifndef ABLATE_CZEROMQ_SHIM_H
#define ABLATE_CZEROMQ_SHIM_H
#include <zmq.h>
#include <sys/eventfd.h>
#endif
