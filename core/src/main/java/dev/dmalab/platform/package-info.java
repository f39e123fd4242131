/**
 * The composition root: a platform profile (YAML) describes a machine — arch, page size, CPUs, RAM banks, MMIO,
 * reservations, caches, devices with their masks and DMA ranges — and {@link dev.dmalab.platform.Machine#boot}
 * builds it for one kernel version and command line: memory and zones, caches, the kernel, the arch, the swiotlb
 * pool, dma-direct, the DMA API core, and each device with {@code arch_setup_dma_ops} applied.
 *
 * <p>May use every model package below it: {@code driver}, {@code check}, {@code xen}, {@code iommu}, {@code
 * direct}, {@code swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code hypervisor}, {@code
 * iommuhw}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.platform;
