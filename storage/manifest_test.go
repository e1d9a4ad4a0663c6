package storage

import (
	"encoding/json"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestManifest: the encoded manifests are byte for byte those the store,
// save and push wrote before they shared this function (their digests are
// image and repository digests users keep).
func TestManifest(t *testing.T) {
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: 3, Digest: SHA256([]byte("abc"))}
	for _, tc := range []struct {
		name   string
		mt     types.MediaType
		layers []v1.Descriptor
		want   string
	}{
		{"oci no layers (nil)", types.OCIManifestSchema1, nil,
			`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":37,"digest":"sha256:9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf"},"layers":null}`},
		{"oci no layers (empty)", types.OCIManifestSchema1, []v1.Descriptor{},
			`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":37,"digest":"sha256:9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf"},"layers":[]}`},
		{"docker one layer", types.DockerManifestSchema2, []v1.Descriptor{layer},
			`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":37,"digest":"sha256:9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":3,"digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Manifest(tc.mt, config, tc.layers)
			got, err := json.Marshal(&m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if got := ImageID(config); got != "9d99a75171aea000c711b34c0e5e3f28d3d537dd99d110eafbfbc2bd8e52c2bf" {
		t.Errorf("ImageID = %q", got)
	}
}
