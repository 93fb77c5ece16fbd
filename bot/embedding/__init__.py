"""Embedding model: conversion of the packaged e5 model and loading of sentence-transformers folders."""
