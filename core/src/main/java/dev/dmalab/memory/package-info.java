/**
 * The physical address space of the modelled machine: RAM banks, holes and MMIO ranges; page frames with a
 * PAGE_SIZE of 4, 16 or 64 KiB and {@code pfn_valid}; the zones (DMA, DMA32, NORMAL); the early boot allocator
 * ({@code mm/memblock.c}); the buddy page allocator with compound pages ({@code mm/page_alloc.c}); and the bytes
 * that memory holds, sparsely (a 4 KiB chunk materialises on first write, never-written memory reads as zero).
 *
 * <p>May use: {@code util}.
 */
package dev.dmalab.memory;
