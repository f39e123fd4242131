/**
 * Xen itself, as far as DMA needs it (Xen 4.x; {@code xen/common/grant_table.c}, {@code xen/common/memory.c},
 * {@code xen/common/page_alloc.c}, {@code xen/arch/arm/p2m.c}, {@code xen/arch/x86/pv/dom0_build.c}): machine memory
 * and the heap of free machine frames, domains with their physical-to-machine map (ARM dom0 mapped 1:1, x86 PV with
 * a guest-maintained p2m, auto-translated domUs), the grant table (a domU grants a frame, dom0 maps it at one of its
 * own frames), and the two hypercalls DMA depends on: {@code GNTTABOP_cache_flush} (ARM cache maintenance by bus
 * address for pages the kernel cannot reach by its own linear map) and {@code XENMEM_exchange} (x86 PV:
 * machine-contiguous frames below an address limit).
 *
 * <p>Xen always works in 4 KiB frames, whatever page size the guest kernel uses.
 *
 * <p>May use: {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.hypervisor;
