package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// The blob upload protocol of the OCI distribution spec, spoken directly
// (go-containerregistry's writer wants each layer's digest before it
// uploads, which would mean compressing every layer twice): HEAD to ask
// for a blob, POST with mount= to take it from another repository, POST
// then PATCH (the compressed stream, as it is made) then PUT ?digest= to
// upload it.

// regRepoClient speaks to one repository with an authenticated transport.
type regRepoClient struct {
	c    *regClient
	repo string
	http *http.Client
}

func (r *regRepoClient) blobURL(dgst string) string {
	return r.c.url("/v2/" + r.repo + "/blobs/" + dgst)
}

// blobExists asks whether the repository has a blob.
func (r *regRepoClient) blobExists(ctx context.Context, dgst string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, r.blobURL(dgst), nil)
	if err != nil {
		return false, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return false, err
	}
	regDrain(resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, regCheck(resp, http.StatusOK, http.StatusNotFound)
}

// startUpload begins an upload. With from set it first asks for a
// cross-repository mount of dgst: mounted reports success, and otherwise
// location is where the upload goes on.
func (r *regRepoClient) startUpload(ctx context.Context, dgst, from string) (location string, mounted bool, err error) {
	u := r.c.url("/v2/" + r.repo + "/blobs/uploads/")
	if from != "" {
		u += "?" + url.Values{"mount": {dgst}, "from": {from}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", false, err
	}
	defer regDrain(resp.Body)
	switch resp.StatusCode {
	case http.StatusCreated:
		return "", true, nil
	case http.StatusAccepted:
		loc, err := regLocation(resp)
		return loc, false, err
	}
	return "", false, regCheck(resp, http.StatusCreated, http.StatusAccepted)
}

// regLocation resolves a response's Location against its request.
func regLocation(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("the registry answered %s without a Location", resp.Request.URL.Path)
	}
	u, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("the registry gave a bad Location %q: %w", loc, err)
	}
	return u.String(), nil
}

// patch sends a stream of unknown length to an upload; it returns where
// the upload goes on.
func (r *regRepoClient) patch(ctx context.Context, location string, body io.Reader) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, location, body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := r.http.Do(req)
	if err != nil {
		return "", err
	}
	defer regDrain(resp.Body)
	if err := regCheck(resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated); err != nil {
		return "", err
	}
	return regLocation(resp)
}

// commit ends an upload, naming the blob's digest; data, if any, is the
// blob (a monolithic upload).
func (r *regRepoClient) commit(ctx context.Context, location, dgst string, data []byte) error {
	u, err := url.Parse(location)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("digest", dgst)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer regDrain(resp.Body)
	return regCheck(resp, http.StatusCreated)
}

// putBlob uploads a small blob unless the repository has it.
func (r *regRepoClient) putBlob(ctx context.Context, dgst string, data []byte) error {
	if ok, err := r.blobExists(ctx, dgst); err != nil || ok {
		return err
	}
	loc, _, err := r.startUpload(ctx, dgst, "")
	if err != nil {
		return err
	}
	return r.commit(ctx, loc, dgst, data)
}

// putManifest stores a manifest under a tag or digest.
func (r *regRepoClient) putManifest(ctx context.Context, ref string, mediaType string, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.c.url("/v2/"+r.repo+"/manifests/"+ref), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer regDrain(resp.Body)
	return regCheck(resp, http.StatusCreated, http.StatusOK, http.StatusAccepted)
}
