#ifndef CNGHTTP2_H
#define CNGHTTP2_H

// libnghttp2 1.52 (Debian 12's libnghttp2-dev) for FaultlineHTTP2, the only Swift target that
// imports this module. Its API imports into Swift as it is: plain functions, enums and structs
// (the `*2` names of 1.60+ are not there; FaultlineHTTP2 uses mem_recv/mem_send and
// nghttp2_data_provider).
#include <nghttp2/nghttp2.h>

#endif
