// A connection's life in the native engine: accepted (on_accept), waiting for JavaScript to pick a backend,
// connecting (failures go back to JavaScript, which may try another), open (the splice), done (reported once).
//
//   client ──accept4──▶ conn ──connect──▶ backend
//            EPOLLIN: read ▶ send (rest kept in `pend`, reading that side stops until it is flushed)
//            bulk (a read filled the 64 KiB buffer): splice ▶ pipe ▶ splice, the bytes never leave the kernel
//            FIN: shutdown(SHUT_WR) on the other side once its pending bytes are out; both FINs: close both
//            error or reset on one side: reset the other (SO_LINGER 0)
#include "engine.h"

// ---- id table -------------------------------------------------------------------------------------------------

// Rebuilt (dropping tombstones) when half full, at four times the live connections.
static void table_grow(void) {
  conn** old = E->table;
  uint32_t old_size = old ? E->table_mask + 1 : 0;
  uint32_t size = 1024;
  while (size < 4 * (E->live + 1)) size *= 2;
  E->table = calloc(size, sizeof(conn*));
  E->table_mask = size - 1;
  E->table_used = 0;
  if (old) {
    for (uint32_t i = 0; i < old_size; i++)
      if (old[i] && old[i] != (conn*)1) table_put(old[i]);
    free(old);
  }
}
void table_put(conn* c) {
  if (!E->table || (E->table_used + 1) * 2 > E->table_mask + 1) table_grow();
  uint32_t i = (uint32_t)(c->id & E->table_mask);
  while (E->table[i] && E->table[i] != (conn*)1) i = (i + 1) & E->table_mask;
  if (!E->table[i]) E->table_used++;
  E->table[i] = c;
}
conn* table_get(uint64_t id) {
  if (!E->table) return NULL;
  uint32_t i = (uint32_t)(id & E->table_mask);
  while (E->table[i]) {
    if (E->table[i] != (conn*)1 && E->table[i]->id == id) return E->table[i];
    i = (i + 1) & E->table_mask;
  }
  return NULL;
}
static void table_del(conn* c) {
  uint32_t i = (uint32_t)(c->id & E->table_mask);
  while (E->table[i]) {
    if (E->table[i] == c) {
      E->table[i] = (conn*)1;  // tombstone: keeps probe chains intact
      return;
    }
    i = (i + 1) & E->table_mask;
  }
}

// ---- connection lifecycle -----------------------------------------------------------------------------------

void connecting_remove(conn* c) {
  if (!c->cprev && E->connecting != c) return;
  if (c->cprev) c->cprev->cnext = c->cnext;
  else E->connecting = c->cnext;
  if (c->cnext) c->cnext->cprev = c->cprev;
  c->cnext = c->cprev = NULL;
}

void connecting_add(conn* c) {
  c->cprev = NULL;
  c->cnext = E->connecting;
  if (E->connecting) E->connecting->cprev = c;
  E->connecting = c;
  // Connects of one listener share a timeout, so a later one rarely moves the timer.
  if (!E->timer_on || c->deadline_ms < E->timer_due) arm_deadline_timer(c->deadline_ms);
}

void ready_add(conn* c) {
  if (c->in_ready) return;
  c->in_ready = 1;
  c->rprev = NULL;
  c->rnext = E->ready;
  if (E->ready) E->ready->rprev = c;
  E->ready = c;
  if (!E->idle_on) {
    E->idle_on = 1;
    uv_idle_start(&E->idle, serve_ready);
  }
}

void ready_remove(conn* c) {
  if (!c->in_ready) return;
  c->in_ready = 0;
  if (c->rprev) c->rprev->rnext = c->rnext;
  else E->ready = c->rnext;
  if (c->rnext) c->rnext->rprev = c->rprev;
  c->rnext = c->rprev = NULL;
}

// The pending error on a socket (SO_ERROR; reading it clears it), 0 when there is none.
int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err;
}

// An address as text and its port (the port is returned; `ip` is empty for a family other than IPv4/IPv6).
int addr_text(const struct sockaddr_storage* sa, char ip[INET6_ADDRSTRLEN]) {
  ip[0] = '\0';
  if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6* a = (const struct sockaddr_in6*)sa;
    inet_ntop(AF_INET6, &a->sin6_addr, ip, INET6_ADDRSTRLEN);
    return ntohs(a->sin6_port);
  }
  if (sa->ss_family != AF_INET) return 0;
  const struct sockaddr_in* a = (const struct sockaddr_in*)sa;
  inet_ntop(AF_INET, &a->sin_addr, ip, INET6_ADDRSTRLEN);
  return ntohs(a->sin_port);
}

// A call into JavaScript with the listener and connection ids (prelude), after the events queued before it.
static void notify(napi_ref fn, conn* c) {
  flush_events();
  napi_handle_scope scope;
  napi_open_handle_scope(E->env, &scope);
  napi_value argv[2] = {num(c->l->id), num(c->id)};
  call_js(fn, 2, argv, NULL);
  napi_close_handle_scope(E->env, scope);
}

void reset_fd(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close(fd);
}

// Unlinks the connection and queues it to be freed after the current batch of events (an event for it may
// still be in that batch). Its fds must already be closed.
void release(conn* c) {
  c->state = S_DONE;
  c->fd[0] = c->fd[1] = -1;
  connecting_remove(c);
  ready_remove(c);
  if (c->prev) c->prev->next = c->next;
  else if (c->l && c->l->head == c) c->l->head = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = NULL;
  table_del(c);
  for (int d = 0; d < 2; d++) {
    free(c->pend[d]);
    c->pend[d] = NULL;
    if (c->spliced[d]) {
      close(c->pipe_fd[d][0]);
      close(c->pipe_fd[d][1]);
      c->spliced[d] = 0;
      c->piped[d] = 0;
    }
  }
  c->free_next = E->to_free;
  E->to_free = c;
}

// A zeroed connection record: a spare one when there is one.
conn* new_conn(void) {
  conn* c = E->spare;
  if (!c) return calloc(1, sizeof(conn));
  E->spare = c->free_next;
  E->nspare--;
  memset(c, 0, sizeof(conn));
  return c;
}

void free_released(void) {
  if (E->dispatching) return;
  while (E->to_free) {
    conn* c = E->to_free;
    E->to_free = c->free_next;
    if (E->nspare < SPARE_CONNS) {
      c->free_next = E->spare;
      E->spare = c;
      E->nspare++;
    } else {
      free(c);
    }
    E->live--;
  }
  for (int i = 0; E->closed_listeners > 0 && i < MAX_LISTENERS; i++) {
    listener* l = E->listeners[i];
    if (l && !l->open && !l->head) {
      E->listeners[i] = NULL;
      E->closed_listeners--;
      free(l);
    }
  }
  update_ref();
}

// Ends the connection and tells JavaScript how it went. `reset_mask` bit d: reset side d instead of closing it.
void finish(conn* c, int reset_mask) {
  if (c->state == S_DONE) return;
  for (int d = 0; d < 2; d++) {
    if (c->fd[d] < 0) continue;
    if (reset_mask & (1 << d)) reset_fd(c->fd[d]);
    else close(c->fd[d]);
  }
  double in = c->bytes[0] - c->reported[0], out = c->bytes[1] - c->reported[1];
  queue_event(EV_CLOSED, c, in, out, c->closed_by == C_NONE ? C_CLIENT : c->closed_by, c->error);
  release(c);
}

// An error on side d: d is closed, the other side reset, so its peer learns at once.
static void fail(conn* c, int d, int err) {
  if (c->closed_by == C_NONE) {
    c->closed_by = d == 0 ? C_CLIENT_RESET : C_BACKEND_RESET;
    c->error = err;
  }
  finish(c, 1 << (1 - d));
}

static void maybe_done(conn* c) {
  if (c->eof[0] && c->eof[1] && !pending(c, 0) && !pending(c, 1)) finish(c, 0);
}

// FIN read from side d: pass it on once the bytes before it are out. With both FINs seen, close() sends the
// FIN a shutdown() would, one syscall fewer.
static void forward_eof(conn* c, int d) {
  if (c->closed_by == C_NONE) c->closed_by = d == 0 ? C_CLIENT : C_BACKEND;
  if (pending(c, d)) return;
  if (c->eof[1 - d]) {
    maybe_done(c);
    return;
  }
  if (!c->shut[1 - d]) {
    c->shut[1 - d] = 1;
    shutdown(c->fd[1 - d], SHUT_WR);
  }
}

// Writes what is pending from side d to the other side. Returns 1 when nothing is left pending.
static int flush(conn* c, int d) {
  while (c->pend_len[d] > c->pend_off[d]) {
    ssize_t w = send(c->fd[1 - d], c->pend[d] + c->pend_off[d], c->pend_len[d] - c->pend_off[d],
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) return 0;
      fail(c, 1 - d, errno);
      return 0;
    }
    c->pend_off[d] += (uint32_t)w;
  }
  free(c->pend[d]);
  c->pend[d] = NULL;
  c->pend_len[d] = c->pend_off[d] = 0;
  return 1;
}

void keep(conn* c, int d, const char* data, size_t n) {
  c->pend[d] = malloc(n);
  memcpy(c->pend[d], data, n);
  c->pend_len[d] = (uint32_t)n;
  c->pend_off[d] = 0;
}

// Side d's bytes go through a pipe from now on. 0 when no pipe could be had (out of descriptors): the
// connection goes on copying.
static int use_pipe(conn* c, int d) {
  if (pipe2(c->pipe_fd[d], O_NONBLOCK | O_CLOEXEC) < 0) return 0;
  // A larger pipe moves more per call; when the user's pipe quota is spent the kernel keeps the default.
  fcntl(c->pipe_fd[d][1], F_SETPIPE_SZ, PIPE_SIZE);
  c->spliced[d] = 1;
  return 1;
}

// The splice counterpart of pump(): side d → pipe → the other side, with the same backpressure (while the
// pipe holds bytes the other side did not take, d is not read) and the same turn limit. A short splice read
// does not mean d is drained (a pipe holds a limited number of segments), so d is read until EAGAIN.
static void pump_pipe(conn* c, int d) {
  int reads = 0;
  for (;;) {
    if (c->piped[d]) {
      ssize_t w = splice(c->pipe_fd[d][0], NULL, c->fd[1 - d], NULL, c->piped[d],
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) fail(c, 1 - d, errno);
        return;  // EAGAIN: the other side is full; its EPOLLOUT brings us back
      }
      c->piped[d] -= (uint32_t)w;
      if (c->piped[d]) return;
      if (c->eof[d]) {
        forward_eof(c, d);
        return;
      }
    }
    if (!c->readable[d] || c->eof[d]) return;
    if (reads++ == MAX_READS) {
      ready_add(c);
      return;
    }
    ssize_t n = splice(c->fd[d], NULL, c->pipe_fd[d][1], NULL, PIPE_SIZE, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      c->bytes[d] += (double)n;
      c->last_active_ms = now_ms();
      c->piped[d] = (uint32_t)n;
    } else if (n == 0) {
      c->eof[d] = 1;
      c->readable[d] = 0;
      forward_eof(c, d);
      return;
    } else if (errno == EAGAIN) {
      c->readable[d] = 0;  // the pipe is empty here, so EAGAIN means the socket is drained
      return;
    } else if (errno != EINTR) {
      fail(c, d, errno);
      return;
    }
  }
}

// Moves bytes from side d to the other side until d is drained or the other side cannot take more.
void pump(conn* c, int d) {
  if (c->state != S_OPEN) return;
  if (c->pend_len[d]) {
    if (!flush(c, d) || c->state == S_DONE) return;
    if (c->eof[d]) {
      forward_eof(c, d);
      return;
    }
  }
  if (c->spliced[d]) {
    pump_pipe(c, d);
    return;
  }
  char* buf = E->scratch;
  int reads = 0;
  while (c->readable[d] && !c->eof[d]) {
    if (reads++ == MAX_READS) {
      ready_add(c);
      return;
    }
    ssize_t n = recv(c->fd[d], buf, SCRATCH_SIZE, 0);
    if (n > 0) {
      c->bytes[d] += (double)n;
      c->last_active_ms = now_ms();
      // With d's FIN queued right behind these bytes (a short read), the next read returns 0 and the FIN is
      // passed on within this call, by a shutdown or, when the other side has ended too and nothing waits for
      // d, by closing both: MSG_MORE holds the bytes until then, so they leave with the FIN in one segment (as
      // HAProxy does when it knows a shutdown follows), which saves a segment, the peer's ACK of it and a
      // wake-up. A short connection's cost is mostly such segments.
      int more = c->fin_next[d] && n < SCRATCH_SIZE && (!c->eof[1 - d] || !pending(c, 1 - d)) ? MSG_MORE : 0;
      ssize_t w = send(c->fd[1 - d], buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT | more);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          fail(c, 1 - d, errno);
          return;
        }
        w = 0;
      }
      if (w < n) {
        keep(c, d, buf + w, (size_t)(n - w));
        return;
      }
      if (n < SCRATCH_SIZE && !c->rdhup[d]) {
        c->readable[d] = 0;  // a short read drained the socket
      } else if (n == SCRATCH_SIZE && E->splice && use_pipe(c, d)) {
        // A full buffer: a bulk transfer, where splicing saves the two copies (HAProxy's splice-auto).
        pump_pipe(c, d);
        return;
      }
    } else if (n == 0) {
      c->eof[d] = 1;
      c->readable[d] = 0;
      forward_eof(c, d);
      return;
    } else if (errno == EAGAIN) {
      c->readable[d] = 0;
    } else if (errno != EINTR) {
      fail(c, d, errno);
      return;
    }
  }
}

// The connect succeeded: bytes start to flow. The handshake's last ACK was held back for the client's first
// bytes (TCP_QUICKACK 0 before connect, see js_connect). When none went out with it, the client's bytes may still
// come in this round of events (its EPOLLIN listed after the backend's EPOLLOUT); what has still sent nothing at
// the end of the round gets TCP_QUICKACK 1 (send_held_acks), or a backend whose server speaks first would see
// the connection only when the kernel's delayed-ACK timer fires.
static void connected(conn* c) {
  int had_prefix = c->pend_len[0] > 0;
  c->state = S_OPEN;
  pump(c, 0);
  if (c->state != S_OPEN) return;
  if (!had_prefix && c->bytes[0] == 0 && !c->shut[1]) {
    if (E->ack_n == E->ack_cap) {
      uint32_t cap = E->ack_cap ? E->ack_cap * 2 : 64;
      conn** grown = realloc(E->ack_due, cap * sizeof(conn*));
      if (!grown) abort();
      E->ack_due = grown;
      E->ack_cap = cap;
    }
    E->ack_due[E->ack_n++] = c;
  }
  pump(c, 1);
}

// At the end of a round of events (records are freed only after it): the held ACKs of connections that still
// sent nothing to their backend.
void send_held_acks(void) {
  for (uint32_t i = 0; i < E->ack_n; i++) {
    conn* c = E->ack_due[i];
    if (c->state == S_OPEN && c->bytes[0] == 0 && !c->shut[1]) {
      int one = 1;
      setsockopt(c->fd[1], IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  }
  E->ack_n = 0;
}

void connect_failed(conn* c, int err) {
  connecting_remove(c);
  close(c->fd[1]);
  c->fd[1] = -1;
  c->state = S_WAITING;
  flush_events();
  napi_handle_scope scope;
  napi_open_handle_scope(E->env, &scope);
  napi_value argv[3] = {num(c->l->id), num(c->id), str_or_undefined(errno_name(err))};
  call_js(E->on_connect_fail, 3, argv, NULL);
  napi_close_handle_scope(E->env, scope);
}

void on_side(side* s, uint32_t ev) {
  conn* c = s->c;
  int d = s->which;
  if (c->state == S_DONE) return;
  if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) c->readable[d] = 1;
  if (ev & (EPOLLRDHUP | EPOLLERR | EPOLLHUP)) c->rdhup[d] = 1;
  if ((ev & EPOLLRDHUP) && !(ev & EPOLLERR)) c->fin_next[d] = 1;
  if (c->state == S_CONNECTING && d == 1) {
    // An error, or a hang-up without ever being writable, is a failed connect; the first EPOLLOUT a success
    // (a backend that accepts and at once resets is then a backend reset, as it would be a moment later).
    if ((ev & EPOLLERR) || ((ev & EPOLLHUP) && !(ev & EPOLLOUT))) {
      int err = socket_error(c->fd[1]);
      c->readable[1] = c->rdhup[1] = c->fin_next[1] = 0;
      connect_failed(c, err ? err : ECONNREFUSED);
      return;
    }
    if (!(ev & EPOLLOUT)) return;
    connecting_remove(c);
    queue_event(EV_CONNECTED, c, 0, 0, 0, 0);
    connected(c);
    return;
  }
  if (c->state != S_OPEN) {
    // Waiting for a backend: a client that resets now ends it; its bytes and FIN wait for the splice.
    if (d == 0 && (ev & EPOLLERR)) {
      int err = socket_error(c->fd[0]);
      fail(c, 0, err ? err : ECONNRESET);
    } else if (d == 0 && c->peeking && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
      notify(E->on_prelude, c);  // more of the prelude (or its end): JavaScript peeks again
    }
    return;
  }
  if (ev & EPOLLERR) {
    // Noticed even while this side is not being read (its bytes wait for the other side to drain).
    int err = socket_error(c->fd[d]);
    if (err) {
      fail(c, d, err);
      return;
    }
  }
  // Writable: bytes waiting for this side go out, and their source is read again.
  if ((ev & EPOLLOUT) && pending(c, 1 - d)) {
    pump(c, 1 - d);
    if (c->state != S_OPEN) return;
  }
  if (c->readable[d] && !pending(c, d)) pump(c, d);
}

void on_accept(listener* l) {
  // Edge-triggered: accept until the queue is empty.
  while (l->open) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = accept4(l->fd, (struct sockaddr*)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      if (errno == ECONNABORTED) continue;
      return;  // EMFILE and friends: the next edge retries
    }
    conn* c = new_conn();
    c->s[0] = (side){K_SIDE, 0, c};
    c->s[1] = (side){K_SIDE, 1, c};
    c->id = ++E->next_id;
    c->l = l;
    c->fd[0] = fd;
    c->fd[1] = -1;
    c->closed_by = C_NONE;
    c->started_ms = c->last_active_ms = now_ms();
    c->next = l->head;
    if (l->head) l->head->prev = c;
    l->head = c;
    table_put(c);
    E->live++;
    update_ref();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->s[0]};
    epoll_ctl(E->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (sa.ss_family == AF_INET) {
      // An IPv4 peer goes in the batch, its address as a number (JavaScript writes the text).
      const struct sockaddr_in* a = (const struct sockaddr_in*)&sa;
      queue_event(EV_ACCEPTED, c, (double)ntohl(a->sin_addr.s_addr), ntohs(a->sin_port), 0, 0);
      continue;
    }
    char ip[INET6_ADDRSTRLEN];
    int port = addr_text(&sa, ip);
    flush_events();
    napi_handle_scope scope;
    napi_open_handle_scope(E->env, &scope);
    napi_value argv[4];
    napi_create_int32(E->env, l->id, &argv[0]);
    argv[1] = num(c->id);
    napi_create_string_latin1(E->env, ip, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_int32(E->env, port, &argv[3]);
    call_js(E->on_accept, 4, argv, NULL);
    napi_close_handle_scope(E->env, scope);
  }
}


void set_keepalive(int fd, int on, int secs) {
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  if (!on) return;
  // As libuv sets it: first probe after `secs` of silence, then every second, ten probes.
  int intvl = 1, cnt = 10;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}
