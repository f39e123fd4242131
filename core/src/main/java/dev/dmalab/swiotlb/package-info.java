/**
 * swiotlb, the software bounce buffer: models {@code kernel/dma/swiotlb.c} and {@code include/linux/swiotlb.h} in
 * the 4.20/5.x and 6.12 generations — pools and areas, the slot search and release ({@link
 * dev.dmalab.swiotlb.IoTlbPool}), bounce copies per direction and version, syncs, {@code swiotlb_map}, the
 * "swiotlb buffer is full" failure, and pool sizing and placement at boot ({@link dev.dmalab.swiotlb.SwiotlbBoot}).
 *
 * <p>May use: {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.swiotlb;
