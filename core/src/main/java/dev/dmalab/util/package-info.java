/**
 * Small, dependency-free helpers shared by every layer: the kernel's unsigned bit arithmetic ({@code
 * DMA_BIT_MASK}, {@code fls64}, {@code ALIGN}, {@code min_not_zero}), simulated time, seeded randomness and
 * primitive collections for allocation-free hot paths.
 *
 * <p>Models no kernel file. May use: the JDK only.
 */
package dev.dmalab.util;
