package dev.dmalab.dma;

/**
 * The part of a user {@code vm_area_struct} that {@code dma_mmap_attrs} looks at, and what it did to it: which
 * page frames were inserted ({@code remap_pfn_range}) with which protection.
 */
public final class Vma {
    /** Page protection chosen for the user mapping. */
    public enum Prot {
        /** Normal cacheable memory ({@code vm_page_prot} unchanged). */
        CACHED,
        /** {@code pgprot_dmacoherent}: non-cacheable. */
        NONCACHED,
        /** {@code pgprot_writecombine}. */
        WRITECOMBINE
    }

    private final long vmStart;
    private final long vmEnd;
    private final long vmPgoff;
    private long mappedPfn = -1;
    private long mappedPages;
    private Prot prot = Prot.CACHED;

    public Vma(long vmStart, long vmEnd, long vmPgoff) {
        if (vmEnd <= vmStart) {
            throw new IllegalArgumentException("empty vma");
        }
        this.vmStart = vmStart;
        this.vmEnd = vmEnd;
        this.vmPgoff = vmPgoff;
    }

    public long vmStart() {
        return vmStart;
    }

    public long vmEnd() {
        return vmEnd;
    }

    public long vmPgoff() {
        return vmPgoff;
    }

    /** {@code vma_pages(vma)} for the given page shift. */
    public long pages(int pageShift) {
        return (vmEnd - vmStart) >>> pageShift;
    }

    public long mappedPfn() {
        return mappedPfn;
    }

    public long mappedPages() {
        return mappedPages;
    }

    public Prot prot() {
        return prot;
    }

    /** Records {@code remap_pfn_range(vma, vm_start, pfn, pages << PAGE_SHIFT, prot)}. */
    public void remap(long pfn, long pages, Prot prot) {
        this.mappedPfn = pfn;
        this.mappedPages = pages;
        this.prot = prot;
    }
}
