/**
 * The CPU data caches of the modelled machine: per-CPU, set-associative, write-back, 64-byte lines that hold real
 * bytes in one of three states (invalid, clean, dirty). CPU loads and stores to cacheable memory go through them;
 * a coherent device's DMA snoops them; a non-coherent device's DMA goes straight to memory and leaves them stale.
 * Maintenance by physical range (clean, invalidate, clean+invalidate) acts on every CPU's cache, as arm64's
 * {@code DC CVAC/IVAC/CIVAC} to the point of coherency do (they are broadcast in the inner-shareable domain).
 *
 * <p>Models the hardware under {@code arch/arm64/mm/cache.S} and {@code arch/arm/mm/cache-v7.S}; x86 caches are
 * coherent with all DMA and the model switches them to transparent mode there.
 *
 * <p>May use: {@code memory}, {@code util}.
 */
package dev.dmalab.cache;
