/* CHDF5: the HDF5 1.10 C API for Swift, with getters for the macros Swift cannot import. */
#ifndef ABLATE_CHDF5_SHIM_H
#define ABLATE_CHDF5_SHIM_H
#include <hdf5.h>

/* Type ids are macros over library globals (H5OPEN H5T_..._g); each getter runs H5open() as C would. */
static inline hid_t ablate_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t ablate_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t ablate_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t ablate_h5t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t ablate_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t ablate_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t ablate_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t ablate_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t ablate_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t ablate_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t ablate_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t ablate_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t ablate_h5t_c_s1(void) { return H5T_C_S1; }

/* File access flags. */
static inline unsigned ablate_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned ablate_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned ablate_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned ablate_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

/* Property list classes. */
static inline hid_t ablate_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t ablate_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t ablate_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t ablate_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t ablate_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t ablate_h5s_all(void) { return H5S_ALL; }
static inline hsize_t ablate_h5s_unlimited(void) { return H5S_UNLIMITED; }
static inline hid_t ablate_h5e_default(void) { return H5E_DEFAULT; }

/* Turn off HDF5's automatic error printing; errors are collected from the stack instead. */
static inline herr_t ablate_h5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Object-count selectors for H5Fget_obj_count / H5Fget_obj_ids. */
static inline unsigned ablate_h5f_obj_local_nonfile(void) {
    return H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL;
}

/* Library version numbers as one string-friendly triple. */
static inline void ablate_h5_version(unsigned *maj, unsigned *min, unsigned *rel) { H5get_libversion(maj, min, rel); }

#endif
