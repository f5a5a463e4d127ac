/*
 * xstate-shim.c — LD_PRELOAD shim that lets User-Mode Linux 6.1 run on hosts with a large XSAVE area
 * (AVX-512, AMX: Sapphire Rapids and later), and keeps each guest task's whole FPU state.
 *
 * UML saves and restores a guest task's FPU state with ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET,
 * NT_X86_XSTATE) through a fixed 832-byte buffer (x87 + SSE + AVX). Two things go wrong on such hosts:
 *
 * 1. The host kernel's xstateregs_set() accepts only a whole XSAVE buffer (count ==
 *    fpu_user_cfg.max_size) and returns EFAULT otherwise, so UML panics at its first task switch with
 *    "ptrace set fp regs failed, errno = 14".
 * 2. What UML does not save, it cannot restore: the AVX-512 state (zmm upper halves, zmm16-31, opmask
 *    registers) of a guest task is lost whenever UML switches tasks in one host process (threads of a
 *    guest process share it) or handles a page fault (UML runs its stub's SIGSEGV handler in the task's
 *    host process, and a signal handler starts from the initial FPU state). A program using AVX-512
 *    (glibc's memcpy, simdutf in Node 24) then computes with zeros.
 *
 * So this shim wraps ptrace(): UML's short PTRACE_GETREGSET of NT_X86_XSTATE reads the whole state and
 * keeps it, keyed by UML's buffer (one per guest task, plus the one UML uses around a page fault) and
 * the traced pid; UML gets its 832 bytes as before. A short PTRACE_SETREGSET from the same buffer to the
 * same pid writes back that whole state with UML's bytes over it: x87/SSE/AVX are UML's (it may have
 * changed them, e.g. for a signal frame), the rest is what the task had when UML saved it. A SETREGSET
 * with no such saved state (a new task) completes UML's bytes from the process's current state.
 * Everything else passes through; nothing changes on hosts whose XSAVE area fits in UML's buffer.
 *
 * Built by uml-run with `cc -shared -fPIC -O2 -o xstate-shim.so xstate-shim.c -ldl`.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define XSAVE_HDR_OFFSET 512 /* xstate_bv (u64) starts the XSAVE header */
#define UML_FEATURES 0x7ULL  /* x87, SSE, AVX: the components UML's buffer holds */
#define SLOTS 8192           /* saved states (guest tasks); open addressing, power of two */

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

/* One guest task's whole state, as it was at UML's last short GETREGSET from `key`. */
struct saved {
  const void *key; /* UML's buffer */
  pid_t pid;       /* the host process it was read from */
  int valid;
  size_t len;
  _Alignas(64) unsigned char xsave[];
};

static struct saved *slots[SLOTS];
static _Alignas(64) unsigned char scratch[1 << 16];

static struct saved **slot_for(const void *key, int create) {
  uintptr_t h = ((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ULL;
  for (size_t i = 0; i < SLOTS; i++) {
    struct saved **s = &slots[(h + i) & (SLOTS - 1)];
    if (*s && (*s)->key == key) return s;
    if (!*s) return create ? s : NULL;
  }
  return NULL; /* full: no saved state (the fallback below still keeps UML running) */
}

static long get_whole(ptrace_fn real, pid_t pid, void *addr, struct iovec *uml) {
  struct iovec host = {scratch, sizeof scratch};
  if (real(PTRACE_GETREGSET, pid, addr, &host) != 0) return -1;
  if (host.iov_len <= uml->iov_len) return 1; /* UML's buffer holds it all: nothing to keep */
  memcpy(uml->iov_base, scratch, uml->iov_len);
  struct saved **s = slot_for(uml->iov_base, 1);
  if (s && !*s && (*s = malloc(sizeof **s + sizeof scratch))) (*s)->key = uml->iov_base;
  if (s && *s) {
    (*s)->pid = pid;
    (*s)->len = host.iov_len;
    (*s)->valid = 1;
    memcpy((*s)->xsave, scratch, host.iov_len);
  }
  return 0;
}

static long set_whole(ptrace_fn real, pid_t pid, void *addr, struct iovec *uml) {
  struct iovec host = {scratch, sizeof scratch};
  struct saved **s = slot_for(uml->iov_base, 0);
  if (s && *s && (*s)->valid && (*s)->pid == pid) {
    memcpy(scratch, (*s)->xsave, (*s)->len);
    host.iov_len = (*s)->len;
  } else if (real(PTRACE_GETREGSET, pid, addr, &host) != 0 || host.iov_len <= uml->iov_len) {
    return 1; /* pass UML's call through as it is */
  }
  uint64_t whole_bv, uml_bv;
  memcpy(&whole_bv, scratch + XSAVE_HDR_OFFSET, 8);
  memcpy(&uml_bv, (unsigned char *)uml->iov_base + XSAVE_HDR_OFFSET, 8);
  memcpy(scratch, uml->iov_base, uml->iov_len);
  uint64_t bv = (uml_bv & UML_FEATURES) | (whole_bv & ~UML_FEATURES);
  memcpy(scratch + XSAVE_HDR_OFFSET, &bv, 8);
  return real(PTRACE_SETREGSET, pid, addr, &host);
}

long ptrace(enum __ptrace_request request, ...) {
  static ptrace_fn real;
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real) real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");

  struct iovec *uml = data;
  if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) && (uintptr_t)addr == NT_X86_XSTATE &&
      uml && uml->iov_len >= XSAVE_HDR_OFFSET + 8 && uml->iov_len < sizeof scratch) {
    int saved_errno = errno;
    long rc = request == PTRACE_GETREGSET ? get_whole(real, pid, addr, uml) : set_whole(real, pid, addr, uml);
    if (rc != 1) { /* handled here: 0, or -1 with the host's errno */
      if (rc == 0) errno = saved_errno;
      return rc;
    }
    errno = saved_errno;
  }
  return real(request, pid, addr, data);
}
