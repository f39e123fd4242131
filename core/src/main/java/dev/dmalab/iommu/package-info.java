/**
 * dma-iommu and the IOVA allocator: {@code drivers/iommu/dma-iommu.c} ({@link dev.dmalab.iommu.DmaIommu}: default
 * domains per IOMMU group, map/unmap/sg/coherent/resource through IOVAs, strict and lazy invalidation with the flush
 * queue), {@code drivers/iommu/iova.c} ({@link dev.dmalab.iommu.IovaDomain}: the rbtree walk with its cached nodes
 * and the per-CPU rcache with its depot), and the kernel timers both depend on ({@link
 * dev.dmalab.iommu.TimerModel}). Linux 6.12, with the corrections of {@code validated-iova.md}.
 *
 * <p>May use: {@code direct}, {@code swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code
 * iommuhw}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.iommu;
