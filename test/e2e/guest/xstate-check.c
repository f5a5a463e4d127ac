/*
 * xstate-check.c — does a guest task keep its AVX-512 registers? (test/e2e/guest.e2e.test.ts)
 *
 * Each of THREADS threads loads zmm16-zmm31 and opmask k1-k7 with its own pattern, then, in one asm
 * block (no compiler code in between), touches PAGES fresh pages (each a page fault UML handles) and
 * calls sched_yield between them (task switches between the threads, which share one host process
 * under UML), and finally stores the registers. Prints "xstate ok" when every thread got its own
 * pattern back, else how many bytes differ; "xstate skip" on a CPU without AVX-512.
 *
 * cc -O2 -pthread -o xstate-check xstate-check.c
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define THREADS 4
#define PAGES 2048
#define ZBYTES (16 * 64)
#define KBYTES (7 * 8)

struct job {
  _Alignas(64) unsigned char in[ZBYTES + KBYTES];
  _Alignas(64) unsigned char out[ZBYTES + KBYTES];
  unsigned char *pages;
};

#define LOADZ(n) "vmovdqu64 " #n "*64(%[in]), %%zmm" #n "+16\n"
__attribute__((target("avx512f,avx512bw"))) static void *work(void *arg) {
  struct job *j = arg;
  unsigned char *p = j->pages;
  long n = PAGES;
  __asm__ volatile(
      "vmovdqu64 0*64(%[in]), %%zmm16\n vmovdqu64 1*64(%[in]), %%zmm17\n"
      "vmovdqu64 2*64(%[in]), %%zmm18\n vmovdqu64 3*64(%[in]), %%zmm19\n"
      "vmovdqu64 4*64(%[in]), %%zmm20\n vmovdqu64 5*64(%[in]), %%zmm21\n"
      "vmovdqu64 6*64(%[in]), %%zmm22\n vmovdqu64 7*64(%[in]), %%zmm23\n"
      "vmovdqu64 8*64(%[in]), %%zmm24\n vmovdqu64 9*64(%[in]), %%zmm25\n"
      "vmovdqu64 10*64(%[in]), %%zmm26\n vmovdqu64 11*64(%[in]), %%zmm27\n"
      "vmovdqu64 12*64(%[in]), %%zmm28\n vmovdqu64 13*64(%[in]), %%zmm29\n"
      "vmovdqu64 14*64(%[in]), %%zmm30\n vmovdqu64 15*64(%[in]), %%zmm31\n"
      "kmovq 1024(%[in]), %%k1\n kmovq 1032(%[in]), %%k2\n kmovq 1040(%[in]), %%k3\n"
      "kmovq 1048(%[in]), %%k4\n kmovq 1056(%[in]), %%k5\n kmovq 1064(%[in]), %%k6\n"
      "kmovq 1072(%[in]), %%k7\n"
      "1:\n"
      "movb $1, (%[p])\n"           /* a fresh page: a page fault */
      "mov $24, %%eax\n syscall\n"  /* sched_yield: a task switch */
      "add $4096, %[p]\n"
      "dec %[n]\n"
      "jnz 1b\n"
      "vmovdqu64 %%zmm16, 0*64(%[out])\n vmovdqu64 %%zmm17, 1*64(%[out])\n"
      "vmovdqu64 %%zmm18, 2*64(%[out])\n vmovdqu64 %%zmm19, 3*64(%[out])\n"
      "vmovdqu64 %%zmm20, 4*64(%[out])\n vmovdqu64 %%zmm21, 5*64(%[out])\n"
      "vmovdqu64 %%zmm22, 6*64(%[out])\n vmovdqu64 %%zmm23, 7*64(%[out])\n"
      "vmovdqu64 %%zmm24, 8*64(%[out])\n vmovdqu64 %%zmm25, 9*64(%[out])\n"
      "vmovdqu64 %%zmm26, 10*64(%[out])\n vmovdqu64 %%zmm27, 11*64(%[out])\n"
      "vmovdqu64 %%zmm28, 12*64(%[out])\n vmovdqu64 %%zmm29, 13*64(%[out])\n"
      "vmovdqu64 %%zmm30, 14*64(%[out])\n vmovdqu64 %%zmm31, 15*64(%[out])\n"
      "kmovq %%k1, 1024(%[out])\n kmovq %%k2, 1032(%[out])\n kmovq %%k3, 1040(%[out])\n"
      "kmovq %%k4, 1048(%[out])\n kmovq %%k5, 1056(%[out])\n kmovq %%k6, 1064(%[out])\n"
      "kmovq %%k7, 1072(%[out])\n"
      : [p] "+r"(p), [n] "+r"(n)
      : [in] "r"(j->in), [out] "r"(j->out)
      : "rax", "rcx", "r11", "memory", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
        "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", "k3",
        "k4", "k5", "k6", "k7");
  return NULL;
}

int main(void) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw")) {
    puts("xstate skip: no AVX-512 on this CPU");
    return 0;
  }
  static struct job jobs[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    for (size_t b = 0; b < sizeof jobs[i].in; b++) jobs[i].in[b] = (unsigned char)(b * 7 + i * 31 + 1);
    jobs[i].pages = mmap(NULL, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (jobs[i].pages == MAP_FAILED) return perror("mmap"), 2;
    if (pthread_create(&t[i], NULL, work, &jobs[i])) return perror("pthread_create"), 2;
  }
  long bad = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    for (size_t b = 0; b < sizeof jobs[i].in; b++) bad += jobs[i].in[b] != jobs[i].out[b];
  }
  if (bad) {
    printf("xstate corrupted: %ld of %zu register bytes differ\n", bad, THREADS * sizeof jobs[0].in);
    return 1;
  }
  printf("xstate ok: %d threads x %d page faults and task switches kept zmm16-31 and k1-k7\n", THREADS, PAGES);
  return 0;
}
