/*
 * xstate-shim.c — LD_PRELOAD shim that lets User-Mode Linux 6.1 run on hosts with a large XSAVE area
 * (AVX-512, AMX: Sapphire Rapids and later).
 *
 * UML saves and restores a guest task's FPU state with ptrace(PTRACE_GETREGSET / PTRACE_SETREGSET,
 * NT_X86_XSTATE) through a fixed 832-byte buffer (x87 + SSE + AVX). Reading a shorter buffer is
 * allowed, but the host kernel's xstateregs_set() accepts only a whole XSAVE buffer
 * (count == fpu_user_cfg.max_size) and returns EFAULT otherwise, so UML panics at its first task
 * switch with "ptrace set fp regs failed, errno = 14".
 *
 * This shim wraps ptrace(): a PTRACE_SETREGSET of NT_X86_XSTATE shorter than the host's buffer is
 * completed from the traced process's current state (read with PTRACE_GETREGSET into a full-size
 * buffer), UML's bytes copied over it, and written back whole. x87/SSE/AVX state — all UML knows of —
 * is UML's; the rest (AVX-512, AMX) stays as the process has it. Everything else passes through.
 * Without the shim nothing changes on hosts whose XSAVE area fits in UML's buffer: the wrapper only
 * acts when the sizes differ.
 *
 * Built by uml-run with `cc -shared -fPIC -O2 -o xstate-shim.so xstate-shim.c -ldl`.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define XSAVE_HDR_OFFSET 512 /* xstate_bv (u64) starts the XSAVE header */
#define UML_FEATURES 0x7ULL  /* x87, SSE, AVX: the components UML's buffer holds */

static _Alignas(64) unsigned char full[1 << 16];

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

long ptrace(enum __ptrace_request request, ...) {
  static ptrace_fn real;
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real) real = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");

  if (request == PTRACE_SETREGSET && (uintptr_t)addr == NT_X86_XSTATE && data) {
    struct iovec *uml = data;
    struct iovec host = {full, sizeof full};
    int saved = errno;
    if (uml->iov_len >= XSAVE_HDR_OFFSET + 8 && real(PTRACE_GETREGSET, pid, addr, &host) == 0 &&
        host.iov_len > uml->iov_len) {
      uint64_t host_bv, uml_bv;
      memcpy(&host_bv, full + XSAVE_HDR_OFFSET, 8);
      memcpy(&uml_bv, (unsigned char *)uml->iov_base + XSAVE_HDR_OFFSET, 8);
      memcpy(full, uml->iov_base, uml->iov_len);
      uint64_t bv = (uml_bv & UML_FEATURES) | (host_bv & ~UML_FEATURES);
      memcpy(full + XSAVE_HDR_OFFSET, &bv, 8);
      errno = saved;
      return real(PTRACE_SETREGSET, pid, addr, &host);
    }
    errno = saved;
  }
  return real(request, pid, addr, data);
}
