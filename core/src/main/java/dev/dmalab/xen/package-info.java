/**
 * The dom0 kernel's side of Xen DMA (spec §7): {@code drivers/xen/swiotlb-xen.c} in its 4.20, 5.0, 5.4 and 6.x
 * forms; the page-coherent hooks in their four states ({@code include/xen/arm/page-coherent.h}, {@code
 * arch/arm{,64}/include/asm/xen/page-coherent.h}, {@code arch/x86/include/asm/xen/page-coherent.h}); {@code
 * arch/arm/xen/mm.c} (cache maintenance by hypercall, {@code xen_arch_need_swiotlb}, {@code xen_mm_init}); {@code
 * arch/arm/xen/p2m.c} and {@code arch/x86/xen/p2m.c} ({@code pfn_to_bfn} and the foreign-frame record); {@code
 * arch/x86/xen/mmu_pv.c} ({@code xen_create_contiguous_region}); the Xen part of {@code arch_setup_dma_ops} and
 * {@code xen_setup_dma_ops}; and the backend side of grant mapping ({@code gnttab_map_refs}).
 *
 * <p>May use: {@code direct}, {@code swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code
 * hypervisor}, {@code cache}, {@code memory}, {@code util}.
 */
package dev.dmalab.xen;
