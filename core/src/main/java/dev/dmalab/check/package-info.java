/**
 * The DMA sanitizer: an observer of the DMA API calls ({@link dev.dmalab.dma.DmaEvent}), of every CPU load and
 * store drivers make ({@link dev.dmalab.kernel.CpuAccessObserver}), of every device access ({@link
 * dev.dmalab.device.BusObserver}) and of the CPU caches ({@link dev.dmalab.cache.CacheObserver}).
 *
 * <p>Models {@code kernel/dma/debug.c} (CONFIG_DMA_API_DEBUG, 6.x; spec §4): every check it makes, with its
 * message, and its reporting switches (first error only, all errors, a driver filter); then goes beyond it with
 * what only a model that sees both sides can check: CPU access to device-owned buffers, stale reads, lost device
 * data, wild DMA, device writes to read-only or past the end of mappings, arch-aware cache-line sharing, sub-page
 * IOMMU exposure and use after unmap. Findings are {@link dev.dmalab.check.DmaFinding} records.
 *
 * <p>May use: {@code iommu}, {@code dma}, {@code kernel}, {@code device}, {@code iommuhw}, {@code cache}, {@code
 * memory}, {@code util}.
 */
package dev.dmalab.check;
