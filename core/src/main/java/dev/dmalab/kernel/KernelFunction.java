package dev.dmalab.kernel;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names the kernel function a model method stands for. When a modelled crash happens, the Oops call trace is
 * built from the annotated methods on the Java stack, innermost first, so it reads like the kernel's.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface KernelFunction {
    /** The kernel symbol, e.g. {@code "dma_alloc_attrs"}. */
    String value();

    /**
     * Whether the kernel inlines this function into its callers, so that it never appears in a call trace (for
     * example {@code xen_alloc_coherent_pages}, {@code dmam_alloc_coherent}).
     */
    boolean inline() default false;

    /**
     * The first kernel version in which the function is out of line; in earlier versions it is a {@code static
     * inline} (for example the map entry points of {@code include/linux/dma-mapping.h} before 5.10). Empty: the
     * {@link #inline()} flag alone decides.
     */
    String inlineBefore() default "";
}
