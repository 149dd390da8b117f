#ifndef CFAULTLINE_SHIMS_H
#define CFAULTLINE_SHIMS_H

// What Glibc's Swift module does not expose: epoll, eventfd, timerfd, signalfd, prctl, and the
// _GNU_SOURCE calls (accept4, SO_PEERCRED). Every symbol defined here is CFaultline_-prefixed.
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <sys/file.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <time.h>

static const uint32_t CFaultline_EPOLLIN = EPOLLIN;
static const uint32_t CFaultline_EPOLLOUT = EPOLLOUT;
static const uint32_t CFaultline_EPOLLERR = EPOLLERR;
static const uint32_t CFaultline_EPOLLHUP = EPOLLHUP;
static const uint32_t CFaultline_EPOLLRDHUP = EPOLLRDHUP;
static const uint32_t CFaultline_EPOLLET = EPOLLET;
static const int CFaultline_SOCK_STREAM = SOCK_STREAM;
static const int CFaultline_SOCK_DGRAM = SOCK_DGRAM;
static const int CFaultline_SOCK_NONBLOCK = SOCK_NONBLOCK;
static const int CFaultline_SOCK_CLOEXEC = SOCK_CLOEXEC;

/// epoll_event is packed; build and read it in C so Swift never touches the layout.
// Swift's Glibc module shadows the function flock(2) with struct flock.
static inline int CFaultline_flock(int fd, int operation) { return flock(fd, operation); }
static const int CFaultline_LOCK_EX = LOCK_EX;
static const int CFaultline_LOCK_NB = LOCK_NB;

static inline struct epoll_event CFaultline_epoll_event_make(uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return ev;
}
static inline uint64_t CFaultline_epoll_event_data(const struct epoll_event *ev) { return ev->data.u64; }
static inline uint32_t CFaultline_epoll_event_events(const struct epoll_event *ev) { return ev->events; }

int CFaultline_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
/// SO_PEERCRED of a Unix socket peer. Returns 0 or -1 with errno.
int CFaultline_peercred(int fd, pid_t *pid, uid_t *uid, gid_t *gid);
/// SO_LINGER {1, 0}: the next close() sends RST instead of FIN.
int CFaultline_set_linger_zero(int fd);
int CFaultline_timerfd_settime_abs_ns(int fd, uint64_t deadline_ns);
/// sigprocmask-blocks SIGINT, SIGTERM, SIGHUP, ignores SIGPIPE, and returns a signalfd for the three.
int CFaultline_signalfd_for_lifecycle(void);
/// Reads one signalfd_siginfo; returns the signal number, 0 on EAGAIN, -1 on error.
int CFaultline_signalfd_read(int fd);
/// Sets PR_SET_TIMERSLACK to 1 ns for the calling thread.
int CFaultline_set_timer_slack_ns(unsigned long ns);
/// Names the calling thread (15 bytes at most).
int CFaultline_set_thread_name(const char *name);
/// CLOCK_MONOTONIC in nanoseconds.
uint64_t CFaultline_monotonic_ns(void);
/// CLOCK_REALTIME in nanoseconds since the epoch.
uint64_t CFaultline_realtime_ns(void);

#endif
