/* The merging t-digest of crick 0.0.8 (Dask, BSD-3-Clause; a C port of Ted Dunning's
 * t-digest, Apache-2.0): the types and functions of tdigest.c, which vendor.sh generates. */
#ifndef SIDESTREAM_THIRD_PARTY_CRICK_TDIGEST_H_
#define SIDESTREAM_THIRD_PARTY_CRICK_TDIGEST_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef struct centroid {
  double mean;
  double weight;
} centroid_t;

typedef struct tdigest {
  double compression; /* clipped to [20, 1000] */
  double min, max;    /* of the values seen */
  /* merged centroids, sorted by mean (valid after tdigest_flush) */
  int size;
  int ncentroids;
  double total_weight;
  centroid_t* centroids;
  centroid_t* merge_centroids;
  /* values added since the last flush */
  int buffer_size;
  int buffer_ncentroids;
  double buffer_total_weight;
  centroid_t* buffer_centroids;
  centroid_t* buffer_sort;
} tdigest_t;

/* NULL when out of memory. */
tdigest_t* tdigest_new(double compression);
void tdigest_free(tdigest_t* T);
/* Adds x with weight w (> 0); NaN and infinite x are ignored. */
void tdigest_add(tdigest_t* T, double x, double w);
void tdigest_flush(tdigest_t* T);
/* Call before tdigest_quantile and tdigest_cdf, after the last add. */
void tdigest_query_prep(tdigest_t* T);
double tdigest_quantile(tdigest_t* T, double q);
double tdigest_cdf(tdigest_t* T, double x);
void tdigest_merge(tdigest_t* T, tdigest_t* other);
void tdigest_scale(tdigest_t* T, double factor);

#ifdef __cplusplus
}
#endif

#endif /* SIDESTREAM_THIRD_PARTY_CRICK_TDIGEST_H_ */
