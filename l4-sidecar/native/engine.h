// Shared by the native engine's files: the connection and listener records, the engine's state, and the
// functions the files call across. See conn.c for how a connection moves, loop.c for how the engine is driven
// from Node's event loop, binding.c for what JavaScript calls.
#ifndef SWITCHYARD_ENGINE_H
#define SWITCHYARD_ENGINE_H
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define SCRATCH_SIZE (64 * 1024)
#define MAX_EVENTS 256
// epoll_wait calls per wake-up of the engine's uv_poll handle (see on_poll).
#define MAX_ROUNDS 8
#define MAX_LISTENERS 1024
// Connect deadlines are checked at most this often (see tick in loop.c).
#define TICK_MS 10
// Bytes moved per splice(2) call (a pipe's default capacity is 64 KiB; PIPE_SIZE asks for more).
#define PIPE_SIZE (256 * 1024)
// Reads per side per turn (1 MiB): a connection that still has bytes waiting goes on the ready list and is
// served again on the next loop iteration, so a bulk transfer cannot hold up other connections or Node's loop.
#define MAX_READS 16
// Connection records kept for reuse rather than freed: a burst of short connections then costs no malloc and
// free each (~330 bytes a record, so at most ~21 KiB per process held back). Under AddressSanitizer every
// record is freed, so a use after release is still caught.
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_CONNS 0
#else
#define SPARE_CONNS 64
#endif

enum kind { K_LISTENER = 1, K_SIDE = 2 };
// A queued event: [type, listener id, connection id, bytes in, bytes out, closed by, errno]; for an accepted
// IPv4 client [type, listener id, connection id, address as a 32-bit number, port, 0, 0].
enum event { EV_CONNECTED = 0, EV_CLOSED = 1, EV_ACCEPTED = 2 };
#define EV_WORDS 7
enum state { S_WAITING, S_CONNECTING, S_OPEN, S_DONE };
enum closed_by { C_NONE = -1, C_CLIENT, C_BACKEND, C_CLIENT_RESET, C_BACKEND_RESET, C_IDLE, C_SHUTDOWN };

typedef struct conn conn;

typedef struct {
  uint8_t kind;  // K_LISTENER
  int id;
  int fd;
  int open;
  conn* head;  // this listener's connections
} listener;

typedef struct {
  uint8_t kind;  // K_SIDE
  uint8_t which;  // 0 client, 1 backend
  conn* c;
} side;

struct conn {
  side s[2];
  // 64-bit: a 32-bit counter wraps after 2^32 accepts, and a long-lived connection would share its id with a new
  // one. JavaScript gets it as a double, exact up to 2^53 (centuries at a million accepts a second).
  uint64_t id;
  listener* l;
  int fd[2];
  enum state state;
  uint8_t readable[2];  // an edge was seen and the socket is not known to be drained
  uint8_t rdhup[2];     // the peer's FIN (or an error) is queued: read to the end, not just to a short read
  uint8_t fin_next[2];  // the peer's FIN (not an error) is queued: what is read from it is the last, see pump()
  uint8_t eof[2];       // FIN read from this side
  uint8_t shut[2];      // we sent FIN (shutdown SHUT_WR) towards this side
  uint8_t peeking;  // JavaScript reads a prelude (PROXY header, ClientHello) with peek(): new bytes call it again
  int closed_by;
  int error;
  // Bytes read from side d not yet written to the other side (d = 0: client → backend).
  char* pend[2];
  uint32_t pend_len[2];
  uint32_t pend_off[2];
  // Bulk transfers from side d go through a pipe with splice(2) once a read fills the whole scratch buffer:
  // the bytes stay in the kernel. pipe_fd[d] is its read and write end, piped[d] the bytes in it.
  uint8_t spliced[2];
  int pipe_fd[2][2];
  uint32_t piped[2];
  double bytes[2];
  double reported[2];
  int64_t started_ms;
  int64_t last_active_ms;
  int64_t deadline_ms;  // connect deadline
  int64_t idle_ms;
  int keepalive_defer_s;  // keep-alive to set on the backend once the connection has lived a second
  conn* next;  // in the listener's list
  conn* prev;
  conn* cnext;  // in the connecting list
  conn* cprev;
  conn* rnext;  // in the ready list
  conn* rprev;
  uint8_t in_ready;
  conn* free_next;
};

typedef struct {
  napi_env env;
  int epfd;
  uv_poll_t poll;
  uv_timer_t timer;  // fires at the earliest connect deadline (no sooner than TICK_MS after the last check)
  int timer_on;
  int64_t timer_due;
  uv_idle_t idle;  // runs while the ready list is not empty
  int idle_on;
  conn* ready;
  napi_ref on_accept, on_connect_fail, on_prelude, on_events;
  // Connects that succeeded and connections that ended, told to JavaScript in one call per batch (see
  // flush_events in loop.c): EV_WORDS doubles each.
  double* ev;
  uint32_t ev_n, ev_cap;
  int flushing;
  // JavaScript's Float64Array the events are copied into for each call (kept: no allocation per batch).
  double* shared;
  uint32_t shared_cap;  // events it holds
  napi_ref shared_ref;
  napi_ref resource;
  napi_async_context async;
  listener* listeners[MAX_LISTENERS];
  conn* connecting;
  // Connected this round with nothing sent yet, their handshake's last ACK held back (see connected() in conn.c).
  conn** ack_due;
  uint32_t ack_n, ack_cap;
  conn* to_free;
  conn* spare;  // freed records kept for the next accepts (at most SPARE_CONNS)
  int nspare;
  uint64_t next_id;
  uint32_t live;  // connections not yet freed
  int splice;     // bulk transfers through pipes (SWITCHYARD_L4_SPLICE=0 turns it off)
  int nlisteners;
  int closed_listeners;  // stopped listeners still waiting for their connections to end
  int referenced;
  int dispatching;  // inside on_poll or tick: freeing waits until the batch is done
  // Connection ids → conn, open addressing (ids are never reused within 2^32 connections).
  conn** table;
  uint32_t table_mask;
  uint32_t table_used;
  char scratch[SCRATCH_SIZE];
} engine;

extern engine* E;

// Bytes read from side d and not yet written to the other side, in user space or in the pipe.
static inline uint32_t pending(const struct conn* c, int d) {
  return c->pend_len[d] + c->piped[d];
}

static inline int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// conn.c: the connection table, the connection state machine and the splice.
void table_put(conn* c);
conn* table_get(uint64_t id);
void connecting_add(conn* c);
void connecting_remove(conn* c);
void ready_add(conn* c);
void ready_remove(conn* c);
void reset_fd(int fd);
int socket_error(int fd);
int addr_text(const struct sockaddr_storage* sa, char ip[INET6_ADDRSTRLEN]);
void set_keepalive(int fd, int on, int secs);
void keep(conn* c, int d, const char* data, size_t n);
void release(conn* c);
void free_released(void);
conn* new_conn(void);
void finish(conn* c, int reset_mask);
void connect_failed(conn* c, int err);
void on_side(side* s, uint32_t ev);
void on_accept(listener* l);
void pump(conn* c, int d);
void send_held_acks(void);

// loop.c: calls into JavaScript and the libuv callbacks that drive the engine.
void update_ref(void);
void call_js(napi_ref ref, size_t argc, napi_value* argv, napi_value* result);
napi_value num(double v);
napi_value str_or_undefined(const char* s);
const char* errno_name(int err);
void on_poll(uv_poll_t* h, int status, int events);
void serve_ready(uv_idle_t* h);
void tick(uv_timer_t* t);
void arm_deadline_timer(int64_t due);
void queue_event(int type, conn* c, double in, double out, int by, int err);
void flush_events(void);

#endif
